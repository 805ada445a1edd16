using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Tinybatch.Internal;

/// <summary>
/// The dispatch loop: one task that cuts batches out of the intake and hands them to the thread pool. It alone owns the
/// outstanding batches and the delay timer, so they need no lock; it reads the intake under the intake's consumer lock.
/// It never runs user code (handlers run on the thread pool; dead letters of abandoned jobs are posted) apart from the
/// <see cref="TimeProvider"/> and metric listeners.
/// </summary>
/// <remarks>
/// <para><b>Waking.</b> Before it sleeps, the loop publishes the intake position whose claim should wake it: the next
/// one when nothing is ready (a first job), the one that completes a batch when a partial batch waits for its delay, or
/// none while every handler slot is busy. A producer wakes it only when its add crosses that position, so a busy stream
/// costs one read per add. Anything else (timer, finished batch, flush, stop, cancellation, retry) pokes the loop.
/// Whoever takes the sleeping flag runs the loop inline, on its own thread, until it next sleeps: the loop only does
/// bookkeeping, and a thread-pool hop would cost a worker wake-up.</para>
/// <para><b>No lost wake-up.</b> A producer claims its position with a compare-and-swap (a full fence) before it reads
/// the sleeping flag; the loop sets the flag with an exchange before it reads the claimed count. So either the loop
/// sees the claim and does not sleep, or the producer sees the flag and wakes it.</para>
/// </remarks>
internal sealed class DispatchLoop<TJob, TResult>
{
    private readonly Batcher<TJob, TResult> _owner;
    private readonly BatcherSettings<TJob, TResult> _settings;
    private readonly Intake<TJob> _intake;
    private readonly RetryScheduler<TJob> _retries;
    private readonly FlushRegistry _flushes;
    /// <summary>Spins on an unpublished head before the loop leaves a waker's thread for the thread pool.</summary>
    private const int InlineSpins = 10;

    private readonly AsyncSignal _signal = new();
    private readonly ITimer _timer;
    private readonly ObjectPool<Batch<TJob, TResult>> _batchPool;
    private readonly List<Batch<TJob, TResult>> _outstanding = [];
    private readonly ConcurrentQueue<Batch<TJob, TResult>> _finished = new();
    private PaddedLong _sleeping;
    private PaddedLong _wakeAt;
    private long _wakeAtWeight = long.MaxValue;
    private int _wakeRequested;
    private int _timerFired;
    private int _started;
    private int _abandonRequested;
    private int _stuckCheckScheduled;
    private int _inFlightBatches;
    private long _inFlightJobs;
    private long _inFlightWeight;
    private long _lastBatchId;
    private long _timerArmedFor = JobEntry<TJob>.NotStamped;
    private volatile PauseState? _pause;
    private PauseState? _timerArmedForPause;
    private TaskCompletionSource? _idleWaiter;

    public DispatchLoop(Batcher<TJob, TResult> owner, BatcherSettings<TJob, TResult> settings, Intake<TJob> intake, RetryScheduler<TJob> retries, FlushRegistry flushes)
    {
        _owner = owner;
        _settings = settings;
        _intake = intake;
        _retries = retries;
        _flushes = flushes;
        _wakeAt.Value = 1;
        _batchPool = new ObjectPool<Batch<TJob, TResult>>((int)Math.Min(settings.MaxConcurrentBatches + 2L, 64));
        using (ExecutionContext.SuppressFlow())
        {
            _timer = settings.Time.CreateTimer(static s => ((DispatchLoop<TJob, TResult>)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Gets the number of batches whose handler call has not finished.</summary>
    public int InFlightBatches => Volatile.Read(ref _inFlightBatches);

    /// <summary>Gets the number of jobs inside handler calls.</summary>
    public long InFlightJobs => Volatile.Read(ref _inFlightJobs);

    /// <summary>Gets a value indicating whether the stop deadline expired (or the loop failed): everything left fails.</summary>
    public bool IsAbandoning => Volatile.Read(ref _abandonRequested) != 0;

    /// <summary>
    /// Test hook: whether the loop is parked on its signal with nothing to do: past its last check for work, unlike a
    /// loop that has only raised its sleeping flag.
    /// </summary>
    internal bool IsAsleep =>
        Volatile.Read(ref _sleeping.Value) != 0 && Volatile.Read(ref _wakeRequested) == 0 && _finished.IsEmpty && _signal.IsParked;

    private bool SlotFree => Volatile.Read(ref _inFlightBatches) < _settings.MaxConcurrentBatches;

    /// <summary>Starts the loop once, whoever asks first: <c>Start</c> or a stop before it.</summary>
    public void EnsureStarted()
    {
        if (Interlocked.CompareExchange(ref _started, 1, 0) != 0)
        {
            return;
        }

        // The loop must not capture the starter's ExecutionContext (async locals, activities) for its whole life.
        using (ExecutionContext.SuppressFlow())
        {
            _ = Task.Run(RunAsync);
        }
    }

    /// <summary>A producer published the job at <paramref name="position"/>: wake the loop if it waits for that one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnPublished(long position)
    {
        if (Volatile.Read(ref _sleeping.Value) != 0
            && (position >= Volatile.Read(ref _wakeAt.Value) - 1
                || (_settings.Weighted && _intake.WeightInUse >= Volatile.Read(ref _wakeAtWeight))))
        {
            Wake();
        }
    }

    /// <summary>Asks the loop to look again: something other than a plain add happened.</summary>
    public void Poke()
    {
        Interlocked.Exchange(ref _wakeRequested, 1);
        Wake();
    }

    /// <summary>Pokes the loop from the thread pool: for callers that must not run it inline (a token's <c>Cancel()</c>).</summary>
    public void PokeLater() =>
        ThreadPool.UnsafeQueueUserWorkItem(static loop => loop.Poke(), this, preferLocal: false);

    /// <summary>The stop deadline expired: everything without an outcome fails.</summary>
    public void RequestAbandon()
    {
        Interlocked.Exchange(ref _abandonRequested, 1);
        PokeLater();
    }

    /// <summary>Pauses dispatch for <paramref name="length"/> (the sink is down); jobs keep their places meanwhile.</summary>
    public void Pause(TimeSpan length)
    {
        _pause = new PauseState(_settings.Time.GetTimestamp(), length);
        Poke();
    }

    /// <summary>A handler call is over: its slot is given back, and the loop takes the batch back.</summary>
    public void Retire(Batch<TJob, TResult> batch)
    {
        Interlocked.Add(ref _inFlightJobs, -batch.Size);
        Interlocked.Add(ref _inFlightWeight, -batch.Weight);
        _finished.Enqueue(batch);
        Interlocked.Decrement(ref _inFlightBatches);
        Poke();
    }

    /// <summary>Gets the weight of the jobs inside handler calls.</summary>
    public long InFlightWeight => Volatile.Read(ref _inFlightWeight);

    /// <summary>Test hook: completes when the loop next goes to sleep with no batch in flight.</summary>
    internal Task WhenIdleAsync()
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _idleWaiter, waiter);
        Poke();
        return waiter.Task;
    }

    private void Wake()
    {
        if (Interlocked.Exchange(ref _sleeping.Value, 0) != 0)
        {
            _signal.Set();
        }
    }

    private void OnTimer()
    {
        Interlocked.Exchange(ref _timerFired, 1);
        Poke();
    }

    private async Task RunAsync()
    {
        var spinner = default(SpinWait);
        bool onPool = false;
        try
        {
            while (true)
            {
                Interlocked.Exchange(ref _wakeRequested, 0);
                if (Interlocked.Exchange(ref _timerFired, 0) != 0)
                {
                    // Fired, so no longer armed: if it fired early, ArmTimer arms it again.
                    _timerArmedFor = JobEntry<TJob>.NotStamped;
                    _timerArmedForPause = null;
                }

                CollectFinished();
                if (_intake.DroppedSinceCompaction > Math.Max(1024, _intake.PlacesInUse))
                {
                    lock (_intake.ConsumerLock)
                    {
                        _intake.Compact();
                    }
                }

                if (IsAbandoning)
                {
                    _owner.AbandonAll(null);
                }

                Progress progress = TryDispatch();
                if (progress == Progress.Dispatched)
                {
                    spinner.Reset();
                    continue;
                }

                CompleteFlushes();
                if (_owner.IsStopping && IsDrained())
                {
                    break;
                }

                ArmTimer();
                if (PrepareToSleep(progress))
                {
                    spinner.Reset();
                    onPool = false;
                    await _signal.WaitAsync().ConfigureAwait(false);
                }
                else if (progress == Progress.HeadInProgress)
                {
                    // A producer holds the next position but has not published it yet: let it run. A wake runs the
                    // loop inline on the waker's thread, and that thread may itself hold the unpublished place (a
                    // caller's token cancelled inside its own add wakes the loop before the add publishes): after a
                    // short spin the loop moves to the thread pool, so the waker's thread returns and publishes.
                    if (!onPool && spinner.Count >= InlineSpins)
                    {
                        onPool = true;
                        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
                    }
                    else
                    {
                        spinner.SpinOnce();
                    }
                }
            }
        }
        catch (Exception ex)
        {
            // A defect, or user code the loop calls (the clock, a metric listener) failing: nothing may be left hanging.
            Interlocked.Exchange(ref _abandonRequested, 1);
            try
            {
                await DrainAfterFailureAsync(ex).ConfigureAwait(false);
            }
            catch (Exception inner)
            {
                _owner.Fault(new AggregateException(ex, inner));
            }
        }

        _timer.Dispose();
        _owner.FinishStop();
    }

    /// <summary>
    /// After the loop failed: fail every job as it arrives (adds in progress, batches in flight) and wait for their
    /// dead letters, as a stop past its deadline does, then let the batcher stop.
    /// </summary>
    private async Task DrainAfterFailureAsync(Exception failure)
    {
        while (true)
        {
            Interlocked.Exchange(ref _wakeRequested, 0);
            CollectFinished();
            _owner.AbandonAll(failure);
            if (IsDrained())
            {
                return;
            }

            // Any publish wakes the loop now, as does any poke (a retired batch, the outbox emptying).
            Volatile.Write(ref _wakeAt.Value, 0);
            Interlocked.Exchange(ref _sleeping.Value, 1);
            if ((Volatile.Read(ref _wakeRequested) != 0 || !_finished.IsEmpty || _intake.OldestQueued < _intake.Claimed)
                && Interlocked.Exchange(ref _sleeping.Value, 0) != 0)
            {
                // To the thread pool: never the waker's thread or its synchronization context.
                await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
                continue;
            }

            await _signal.WaitAsync().ConfigureAwait(false);
        }
    }

    /// <summary>What a dispatch attempt found; it decides what should wake the loop next.</summary>
    private enum Progress
    {
        /// <summary>Nothing is queued.</summary>
        Empty,

        /// <summary>A batch was dispatched.</summary>
        Dispatched,

        /// <summary>The next position is claimed but not yet published by its producer.</summary>
        HeadInProgress,

        /// <summary>A batch is queued but not due (it waits for its delay or to fill up).</summary>
        NotDue,

        /// <summary>Nothing can be dispatched now: every handler slot is busy, or dispatch is paused.</summary>
        Blocked,
    }

    private Progress TryDispatch()
    {
        if (!SlotFree || IsPaused(out _))
        {
            return Progress.Blocked;
        }

        Batch<TJob, TResult>? batch;
        lock (_intake.ConsumerLock)
        {
            Intake<TJob>.Head head = _intake.TryPeek(out QueuedJob<TJob> first);
            if (head != Intake<TJob>.Head.Ready)
            {
                return head == Intake<TJob>.Head.InProgress ? Progress.HeadInProgress : Progress.Empty;
            }

            if (_settings.StampJobs && first.Stamp == JobEntry<TJob>.NotStamped)
            {
                // Left unstamped by its producer (see Intake): its delay counts from now.
                first.Stamp = _owner.Now();
                _intake.StampHead(first.Stamp);
            }

            if (!IsDue(first))
            {
                return Progress.NotDue;
            }

            // The clock is user code and may throw: read it before any job leaves the intake. Only telemetry needs it.
            long dispatched = _owner.NeedsDispatchTime ? _owner.Now() : JobEntry<TJob>.NotStamped;
            batch = Cut();
            if (batch is null)
            {
                // Every job it looked at had been cancelled meanwhile.
                return Progress.Empty;
            }

            batch.DispatchTimestamp = dispatched;
        }

        Dispatch(batch);
        return Progress.Dispatched;
    }

    /// <summary>The one rule (<see cref="BatchTrigger"/>), fed with what the loop knows of the head batch.</summary>
    private bool IsDue(in QueuedJob<TJob> first)
    {
        // The head is ready, so at least one job is queued; jobs cancelled while queued do not fill a batch.
        long queued = Math.Max(1, _intake.Queued);
        long weight = _settings.Weighted ? QueuedWeight() : queued;
        bool forced = _owner.IsStopping
            || (_settings.Mode == BatchingMode.Adaptive && Volatile.Read(ref _inFlightBatches) == 0)
            || IsFlushForcing();
        TimeSpan waited = _settings.StampJobs && first.Stamp != JobEntry<TJob>.NotStamped
            ? _settings.Time.GetElapsedTime(first.Stamp)
            : TimeSpan.Zero;
        return _settings.Trigger.IsDue(queued, weight, waited, forced);
    }

    /// <summary>A pending flush forces out every queued job added before it, retried ones included.</summary>
    private bool IsFlushForcing()
    {
        if (!_flushes.HasWaiters)
        {
            return false;
        }

        long flushTo = _flushes.MaxPosition;
        return _intake.OldestQueued < flushTo || _retries.MinQueuedOrigin < flushTo;
    }

    private long QueuedWeight() => Math.Max(0, _intake.WeightInUse - InFlightWeight - _retries.WaitingWeight);

    /// <summary>Cuts the next batch straight from the intake: each job is copied once. Under the consumer lock.</summary>
    private Batch<TJob, TResult>? Cut()
    {
        Batch<TJob, TResult> batch = _batchPool.TryRent() ?? new Batch<TJob, TResult>(Math.Min(_settings.MaxBatchSize, 16));
        int max = _settings.MaxBatchSize;
        long maxWeight = _settings.MaxBatchWeight;
        long flushLimit = _flushes.HasWaiters ? _flushes.FirstPositionAbove(_intake.OldestQueued) : long.MaxValue;
        int count = 0;
        long weight = 0;
        long minOrigin = long.MaxValue;
        var spinner = default(SpinWait);

        // Plain jobs go in runs straight from the ring; anything else goes through the general path below. Once a run
        // comes back empty (the head is awaited, retried, traced or not published yet), the rest of the cut takes the
        // general path, which handles plain jobs too, rather than looking at every head twice.
        bool plainRuns = flushLimit == long.MaxValue;
        while (count < max)
        {
            if (plainRuns)
            {
                int room = Math.Min(max - count, 256);
                batch.EnsureCapacity(count + room);
                int run = _intake.TakePlainRun(batch.Entries.AsSpan(count, room), maxWeight - weight, out long runWeight);
                if (run > 0)
                {
                    minOrigin = Math.Min(minOrigin, batch.Entries[count].Origin);
                    weight += runWeight;
                    count += run;
                    continue;
                }

                plainRuns = false;
            }

            Intake<TJob>.Head head = _intake.TryPeek(out QueuedJob<TJob> job);
            if (head == Intake<TJob>.Head.InProgress && count > 0 && spinner.Count < 20
                && count + (_intake.Claimed - _intake.HeadPosition) >= max)
            {
                // The batch is full by claims, but a producer is still publishing its job: it takes nanoseconds.
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if (head != Intake<TJob>.Head.Ready || job.Weight > maxWeight - weight || (job.Position >= flushLimit && count > 0))
            {
                // Nothing more ready, the job would cross the weight cap, or it was added after a flush that ends this
                // batch: it heads the next batch.
                break;
            }

            object? state = job.State;
            int attempts = 0;
            long origin = job.Position;
            bool reentered = false;
            if (state is RetryTicket ticket)
            {
                state = ticket.Inner;
                attempts = ticket.Attempts;
                origin = ticket.Origin;
                reentered = true;
            }

            if (state is JobCompletion<TJob, TResult> completion && !completion.TryClaim())
            {
                // Its caller cancelled after TryPeek looked: the place is already given back.
                _intake.Discard((IDroppableState)job.State!);
                _intake.Take();
                continue;
            }

            _intake.Take();

            if (reentered)
            {
                _retries.OnDispatched((RetryTicket)job.State!);
            }

            batch.EnsureCapacity(count + 1);
            batch.Entries[count] = new JobEntry<TJob>
            {
                Job = Batcher<TJob, TResult>.JobOf(job, state),
                State = state,
                Stamp = job.Stamp,
                Weight = job.Weight,
                Origin = origin,
                Attempts = attempts + 1,
                Reentered = reentered,
            };
            minOrigin = Math.Min(minOrigin, origin);
            weight += job.Weight;
            count++;
        }

        // Producers read the oldest queued position on every add: it is published once per cut, not once per job.
        _intake.PublishProgress();
        if (count == 0)
        {
            _batchPool.Return(batch);
            return null;
        }

        batch.Size = count;
        batch.Weight = weight;
        batch.MinOrigin = minOrigin;
        return batch;
    }

    private void Dispatch(Batch<TJob, TResult> batch)
    {
        batch.Id = ++_lastBatchId;
        _outstanding.Add(batch);
        Interlocked.Add(ref _inFlightJobs, batch.Size);
        Interlocked.Add(ref _inFlightWeight, batch.Weight);
        Interlocked.Increment(ref _inFlightBatches);
        _owner.OnDispatched(batch);

        // Local queue: when the loop next sleeps, this same thread runs the handler without waking another worker
        // (idle workers still steal it when the loop stays busy).
        batch.WorkItem ??= _owner.CreateWorkItem(batch);
        ThreadPool.UnsafeQueueUserWorkItem(batch.WorkItem, preferLocal: true);
    }

    /// <summary>Takes back finished batches and returns the ones no handler holds any more to the pool.</summary>
    private void CollectFinished()
    {
        while (_finished.TryDequeue(out Batch<TJob, TResult>? batch))
        {
            _outstanding.Remove(batch);
            if (!batch.Abandoned)
            {
                batch.Reset();
                _batchPool.Return(batch);
            }
        }
    }

    /// <summary>Completes the flushes whose earlier jobs all have their final outcomes.</summary>
    private void CompleteFlushes()
    {
        if (!_flushes.HasWaiters)
        {
            return;
        }

        lock (_intake.ConsumerLock)
        {
            // Drops cancelled jobs at the head, so a flush does not wait for a job that no longer exists.
            _intake.TryPeek(out _);
        }

        long unfinished = Math.Min(_intake.OldestQueued, _retries.MinUnfinishedOrigin);
        foreach (Batch<TJob, TResult> batch in _outstanding)
        {
            unfinished = Math.Min(unfinished, batch.MinOrigin);
        }

        _flushes.CompleteThrough(unfinished);
    }

    private bool IsDrained()
    {
        if (_intake.PlacesInUse != 0 || _outstanding.Count != 0 || !_finished.IsEmpty)
        {
            return false;
        }

        if (_owner.CallbacksPending == 0)
        {
            return true;
        }

        // Every job has its outcome; callbacks are still being delivered (the outbox pokes the loop when it empties). A
        // plain stop waits for them. One past its deadline stops waiting once a callback has been stuck for a while; the
        // rest is still delivered, later.
        if (!IsAbandoning)
        {
            return false;
        }

        if (_owner.CallbacksStuck)
        {
            return true;
        }

        if (Interlocked.Exchange(ref _stuckCheckScheduled, 1) == 0)
        {
            _ = Task.Delay(DeadLetterOutbox<TJob>.StuckAfter + TimeSpan.FromMilliseconds(100)).ContinueWith(
                static (_, s) =>
                {
                    var loop = (DispatchLoop<TJob, TResult>)s!;
                    Volatile.Write(ref loop._stuckCheckScheduled, 0);
                    loop.Poke();
                },
                this,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        return false;
    }

    private bool IsPaused(out TimeSpan remaining)
    {
        remaining = TimeSpan.Zero;
        if (_pause is not { } pause || IsAbandoning)
        {
            return false;
        }

        TimeSpan elapsed = _settings.Time.GetElapsedTime(pause.Start);
        if (elapsed >= pause.Length)
        {
            Interlocked.CompareExchange(ref _pause, null, pause);
            return false;
        }

        remaining = pause.Length - elapsed;
        return true;
    }

    /// <summary>Arms the timer for the next deadline only time can reach: the head's delay, or the end of a pause.</summary>
    private void ArmTimer()
    {
        if (IsPaused(out TimeSpan pause))
        {
            if (!ReferenceEquals(_timerArmedForPause, _pause))
            {
                _timerArmedForPause = _pause;
                _timerArmedFor = JobEntry<TJob>.NotStamped;
                _timer.Change(ForTimer(pause), Timeout.InfiniteTimeSpan);
            }

            return;
        }

        if (!SlotFree || !_settings.StampJobs)
        {
            return;
        }

        long stamp;
        lock (_intake.ConsumerLock)
        {
            if (_intake.TryPeek(out QueuedJob<TJob> head) != Intake<TJob>.Head.Ready || head.Stamp == JobEntry<TJob>.NotStamped)
            {
                return;
            }

            stamp = head.Stamp;
        }

        // The deadline is the head's add time plus the delay: a timer armed for the same add time is already right.
        if (stamp == _timerArmedFor)
        {
            return;
        }

        _timerArmedFor = stamp;
        _timerArmedForPause = null;
        _timer.Change(ForTimer(_settings.Trigger.Remaining(_settings.Time.GetElapsedTime(stamp))), Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// The system timer counts whole milliseconds and would truncate: round up so it never fires before the deadline
    /// (a timer that fires early only wakes the loop, which arms it again). Other clocks get the exact remainder.
    /// </summary>
    private TimeSpan ForTimer(TimeSpan remaining)
    {
        if (remaining == Timeout.InfiniteTimeSpan)
        {
            return Timeout.InfiniteTimeSpan;
        }

        remaining = BatchTrigger.ForTimer(remaining);
        if (_settings.SystemClock && remaining < BatchTrigger.MaxTimerDelay)
        {
            long ticks = (remaining.Ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond * TimeSpan.TicksPerMillisecond;
            remaining = TimeSpan.FromTicks(Math.Min(ticks, BatchTrigger.MaxTimerDelay.Ticks));
        }

        return remaining;
    }

    /// <summary>Publishes what should wake the loop, then checks once more that nothing already has.</summary>
    private bool PrepareToSleep(Progress progress)
    {
        long oldest = _intake.OldestQueued;
        long wakeAt;
        long wakeAtWeight = long.MaxValue;
        if (progress == Progress.Blocked)
        {
            // Jobs cannot be dispatched now: a finished batch or the pause's timer pokes the loop.
            wakeAt = long.MaxValue;
        }
        else if (progress == Progress.NotDue)
        {
            // A partial batch waits for its delay (the timer is armed): wake when it is full. Entries cancelled while
            // queued hold positions but do not fill it (a cancellation pokes the loop, which publishes this again), and
            // the positions of purged ones are counted as left, so the count runs from there, not from the oldest.
            wakeAt = _intake.Left + _intake.CanceledQueued + _settings.MaxBatchSize;
            if (_settings.Weighted)
            {
                wakeAtWeight = _intake.WeightInUse + (_settings.MaxBatchWeight - Math.Min(_settings.MaxBatchWeight, QueuedWeight()));
            }
        }
        else
        {
            // Nothing ready: wake for the next job. With nothing queued, the backlog of a past stall is given back.
            wakeAt = oldest + 1;
            if (progress == Progress.Empty)
            {
                _intake.TrimWhenEmpty();
            }
        }

        Volatile.Write(ref _wakeAt.Value, wakeAt);
        Volatile.Write(ref _wakeAtWeight, wakeAtWeight);
        Interlocked.Exchange(ref _sleeping.Value, 1);

        bool work = Volatile.Read(ref _wakeRequested) != 0
            || !_finished.IsEmpty
            || _intake.Claimed >= wakeAt
            || (_settings.Weighted && _intake.WeightInUse >= wakeAtWeight);
        if (work && Interlocked.Exchange(ref _sleeping.Value, 0) != 0)
        {
            return false;
        }

        // Either nothing is left to do, or a waker took the sleeping flag and will set the signal.
        if (Volatile.Read(ref _inFlightBatches) == 0 && Interlocked.Exchange(ref _idleWaiter, null) is { } idle)
        {
            idle.TrySetResult();
        }

        return true;
    }

    /// <summary>The outstanding batches, for the stop deadline to abandon.</summary>
    public Batch<TJob, TResult>[] OutstandingSnapshot() => [.. _outstanding];

    /// <summary>Completes the last test waiter when the loop ends.</summary>
    public void ReleaseIdleWaiter() => Interlocked.Exchange(ref _idleWaiter, null)?.TrySetResult();

    /// <summary>A pause of dispatch: from when, for how long.</summary>
    private sealed record PauseState(long Start, TimeSpan Length);
}
