using System.Runtime.CompilerServices;
using Tinybatch.Internal;

namespace Tinybatch;

/// <summary>
/// Adding jobs. An add weighs the job, takes a place in the intake (one compare-and-swap that also checks the
/// capacity), checks the batcher is still open, and publishes the job. A stop that begins at the same moment either
/// sees the place taken (and waits for the job) or is seen by the add (which gives the place back): the drain is exact.
/// </summary>
public sealed partial class Batcher<TJob, TResult>
{
    /// <summary>
    /// Adds a fire-and-forget job without waiting. Its outcome reaches <see cref="BatcherOptions{TJob, TResult}.OnBatchCompleted"/>
    /// and, if it fails, <see cref="BatcherOptions{TJob, TResult}.OnDeadLetter"/>.
    /// </summary>
    /// <param name="job">The job.</param>
    /// <returns>
    /// <see langword="true"/> if the job was accepted (or, with <see cref="OverflowPolicy.DropOldest"/>, accepted in
    /// place of an evicted job); <see langword="false"/> if the buffer is full or the batcher is stopping or stopped, as
    /// <see cref="System.Threading.Channels.ChannelWriter{T}.TryWrite"/> does. Each refusal is counted in
    /// <see cref="BatcherCounters.Rejected"/>.
    /// </returns>
    /// <exception cref="JobTooHeavyException">The job weighs more than one job may (see <see cref="BatcherOptions.MaxJobWeight"/>).</exception>
    public bool TryAdd(TJob job)
    {
        if (IsStopping)
        {
            CountRejected();
            return false;
        }

        long weight = Weigh(job);
        if (_intake.TryClaim(weight, out long position)
            || (_settings.Overflow == OverflowPolicy.DropOldest && TryEvictOldest(weight, out position)))
        {
            if (TryPublish(position, job, weight, BatcherTelemetry.CaptureLink()))
            {
                return true;
            }
        }

        // The caller still holds the job, so it is counted but not dead-lettered.
        CountRejected();
        return false;
    }

    /// <summary>
    /// Adds fire-and-forget jobs without waiting, in order, stopping at the first one refused. Without a weigher, the
    /// places of all the jobs that fit are taken in one step.
    /// </summary>
    /// <param name="jobs">The jobs.</param>
    /// <returns>How many jobs, from the start of <paramref name="jobs"/>, were accepted; the first refusal is counted in <see cref="BatcherCounters.Rejected"/>.</returns>
    /// <exception cref="JobTooHeavyException">A job weighs more than one job may; the jobs before it were accepted.</exception>
    public int TryAddRange(ReadOnlySpan<TJob> jobs)
    {
        if (jobs.IsEmpty)
        {
            return 0;
        }

        if (_settings.Weighted || _settings.Overflow == OverflowPolicy.DropOldest || IsStopping)
        {
            for (int i = 0; i < jobs.Length; i++)
            {
                if (!TryAdd(jobs[i]))
                {
                    return i;
                }
            }

            return jobs.Length;
        }

        int taken = _intake.TryClaimMany(jobs.Length, out long first);
        if (taken > 0)
        {
            if (IsStopping)
            {
                for (int i = 0; i < taken; i++)
                {
                    _intake.Refuse(first + i, 1);
                }

                taken = 0;
            }
            else
            {
                object? link = BatcherTelemetry.CaptureLink();
                for (int i = 0; i < taken; i++)
                {
                    long position = first + i;
                    long stamp;
                    try
                    {
                        stamp = StampFor(position, 1);
                    }
                    catch (Exception)
                    {
                        // The clock failed: give back the places not yet published (StampFor gave back this one).
                        for (int rest = i + 1; rest < taken; rest++)
                        {
                            _intake.Refuse(first + rest, 1);
                        }

                        _loop.OnPublished(first + i);
                        throw;
                    }

                    _intake.Publish(position, jobs[i], link, stamp, 1);
                }

                _loop.OnPublished(first + taken - 1);
            }
        }

        if (taken < jobs.Length)
        {
            CountRejected();
        }

        return taken;
    }

    /// <summary>
    /// Adds a fire-and-forget job. It completes as soon as the job is accepted, without waiting for its batch. When the
    /// buffer is full it waits for space (<see cref="OverflowPolicy.Wait"/>), throws (<see cref="OverflowPolicy.Reject"/>)
    /// or drops a job (the drop policies).
    /// </summary>
    /// <param name="job">The job.</param>
    /// <param name="cancellationToken">Cancels the wait for space; it has no effect once the job is accepted.</param>
    /// <returns>A task that completes when the job is accepted.</returns>
    /// <exception cref="BatcherStoppedException">The batcher is stopping or stopped, or its lifetime token was cancelled.</exception>
    /// <exception cref="BatcherFullException">The buffer is full and the policy is <see cref="OverflowPolicy.Reject"/>.</exception>
    /// <exception cref="JobTooHeavyException">The job weighs more than one job may (see <see cref="BatcherOptions.MaxJobWeight"/>).</exception>
    public ValueTask AddAsync(TJob job, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        ThrowIfClosed();
        long weight = Weigh(job);
        if (_intake.TryClaim(weight, out long position))
        {
            PublishOrThrow(position, job, weight, BatcherTelemetry.CaptureLink());
            return default;
        }

        return AddWhenFullAsync(job, weight, cancellationToken);
    }

    /// <summary>
    /// Adds a job and waits for its own result: the value its handler returned for it, or the exception that failed it.
    /// </summary>
    /// <param name="job">The job.</param>
    /// <param name="cancellationToken">
    /// Cancels this caller's wait. If the job has not been dispatched yet it is removed from its batch (counted as
    /// canceled); if it has, it is still processed, but this caller stops waiting for the result.
    /// </param>
    /// <returns>The job's result.</returns>
    /// <exception cref="BatcherStoppedException">The batcher is stopping or stopped, or the stop deadline expired first.</exception>
    /// <exception cref="BatcherFullException">The buffer is full and the policy is <see cref="OverflowPolicy.Reject"/>.</exception>
    /// <exception cref="JobDroppedException">The job was dropped by a drop policy.</exception>
    /// <exception cref="JobTooHeavyException">The job weighs more than one job may (see <see cref="BatcherOptions.MaxJobWeight"/>).</exception>
    /// <exception cref="InvalidOperationException">Called from inside this batcher's own handler or callbacks, where it would wait for itself.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<TResult> AddAndWaitAsync(TJob job, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<TResult>(cancellationToken);
        }

        CallbackScope.ThrowIfInside(this, Name, nameof(AddAndWaitAsync));
        ThrowIfClosed();
        long weight = Weigh(job);
        if (_intake.TryClaim(weight, out long position))
        {
            return PublishAwaited(position, job, weight, cancellationToken);
        }

        return AddAndWaitWhenFullAsync(job, weight, cancellationToken);
    }

    /// <summary>
    /// Adds a job and waits for its result, telling a refusal of the add apart from the job's own outcome: for the
    /// partitioned batcher, which sends a job refused by a retiring partition to a fresh one, but never a job that was
    /// accepted and then failed.
    /// </summary>
    internal async ValueTask<TResult> AddAndWaitTrackedAsync(TJob job, StrongBox<bool> accepted, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        CallbackScope.ThrowIfInside(this, Name, nameof(AddAndWaitAsync));
        ThrowIfClosed();
        long weight = Weigh(job);
        if (!_intake.TryClaim(weight, out long position))
        {
            if (await MakeRoomAsync(job, weight, cancellationToken).ConfigureAwait(false) is not { } room)
            {
                throw NewDroppedException(DeadLetterReason.Dropped);
            }

            position = room;
        }

        ValueTask<TResult> result = PublishAwaited(position, job, weight, cancellationToken);
        accepted.Value = true;
        return await result.ConfigureAwait(false);
    }

    /// <summary>Called by a job's completion when its caller cancels while the job is still queued.</summary>
    internal void OnQueuedJobCanceled(long weight)
    {
        Interlocked.Increment(ref _canceled);
        if (_telemetry.OutcomesEnabled)
        {
            _telemetry.RecordOutcome(Name, "canceled", 1);
        }

        _intake.ReleaseDropped(weight);
        Poke();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long Weigh(TJob job)
    {
        if (_settings.Weigher is null)
        {
            return 1;
        }

        long weight = _settings.Weigher(job);
        if (weight < 0 || weight > _settings.MaxJobWeight)
        {
            CountRejected();
            ThrowHelper.ThrowBadWeight(Name, weight, _settings.MaxJobWeight, _settings.MaxJobWeightSource);
        }

        return weight;
    }

    /// <summary>Whether the job at this position needs its add time (see <see cref="BatcherSettings{TJob, TResult}.StartsBatch"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool NeedsStamp(long position) =>
        _telemetry.WaitTimeEnabled
        || (_settings.StampJobs && (_settings.StampEveryJob || _settings.StartsBatch(position - _intake.OldestQueued)));

    /// <summary>Publishes the job of a claimed place, unless a stop began meanwhile (then the place is given back).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryPublish(long position, TJob job, long weight, object? state)
    {
        if (IsStopping)
        {
            _intake.Refuse(position, weight);
            return false;
        }

        _intake.Publish(position, job, state, StampFor(position, weight), weight);
        _loop.OnPublished(position);
        return true;
    }

    /// <summary>
    /// The add time of the job at a claimed position, if it needs one. The clock is user code: should it throw, the
    /// claimed place is given back before the exception leaves the add, or the consumer would wait for it forever.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long StampFor(long position, long weight)
    {
        if (!NeedsStamp(position))
        {
            return JobEntry<TJob>.NotStamped;
        }

        try
        {
            return Now();
        }
        catch (Exception)
        {
            _intake.Refuse(position, weight);
            throw;
        }
    }

    private void PublishOrThrow(long position, TJob job, long weight, object? state)
    {
        if (!TryPublish(position, job, weight, state))
        {
            CountRejected();
            ThrowHelper.ThrowStopped(Name);
        }
    }

    private ValueTask<TResult> PublishAwaited(long position, TJob job, long weight, CancellationToken cancellationToken)
    {
        if (IsStopping)
        {
            _intake.Refuse(position, weight);
            CountRejected();
            ThrowHelper.ThrowStopped(Name);
        }

        long stamp = StampFor(position, weight);
        var completion = JobCompletion<TJob, TResult>.Rent(_completionPool, this, job, weight);
        completion.Link = BatcherTelemetry.CaptureLink();
        ValueTask<TResult> result = completion.Arm(cancellationToken);
        _intake.Publish(position, default!, completion, stamp, weight);
        _loop.OnPublished(position);
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfClosed()
    {
        if (IsStopping)
        {
            CountRejected();
            ThrowHelper.ThrowStopped(Name);
        }
    }

    /// <summary>Counts refused adds, in the batcher's counters and in the outcome metric alike.</summary>
    private void CountRejected(int count = 1)
    {
        if (count == 0)
        {
            return;
        }

        Interlocked.Add(ref _rejected, count);
        if (_telemetry.OutcomesEnabled)
        {
            _telemetry.RecordOutcome(Name, "rejected", count);
        }
    }

    private async ValueTask AddWhenFullAsync(TJob job, long weight, CancellationToken cancellationToken)
    {
        // A dropped fire-and-forget job is reported to the dead-letter callback; its producer is not told.
        if (await MakeRoomAsync(job, weight, cancellationToken).ConfigureAwait(false) is { } position)
        {
            PublishOrThrow(position, job, weight, BatcherTelemetry.CaptureLink());
        }
    }

    private async ValueTask<TResult> AddAndWaitWhenFullAsync(TJob job, long weight, CancellationToken cancellationToken)
    {
        if (await MakeRoomAsync(job, weight, cancellationToken).ConfigureAwait(false) is not { } position)
        {
            throw NewDroppedException(DeadLetterReason.Dropped);
        }

        return await PublishAwaited(position, job, weight, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Applies the overflow policy to an add that found the buffer full: waits for a place, evicts the oldest queued
    /// job, or refuses. Returns the job's position once it holds a place, or null when the new job was dropped
    /// (already counted and reported). <see cref="OverflowPolicy.Reject"/> throws the exception its dead letter carries.
    /// </summary>
    private async ValueTask<long?> MakeRoomAsync(TJob job, long weight, CancellationToken cancellationToken)
    {
        switch (_settings.Overflow)
        {
            case OverflowPolicy.Wait:
                return await WaitForSpaceAsync(weight, cancellationToken).ConfigureAwait(false);
            case OverflowPolicy.Reject:
                throw Refuse(job, DeadLetterReason.Rejected);
            case OverflowPolicy.DropOldest when TryEvictOldest(weight, out long position):
                return position;
            default:
                Refuse(job, DeadLetterReason.Dropped);
                return null;
        }
    }

    /// <summary>Counts a refused add and reports it to the dead-letter callback; returns the exception of the refusal.</summary>
    private Exception Refuse(TJob job, DeadLetterReason reason)
    {
        // The new job was never accepted, so a DropWrite drop is a refusal too (Counters.Rejected), not a Dropped outcome.
        CountRejected();
        Exception exception = NewDroppedException(reason);
        _outbox.Post(job, reason, exception, null, 0, JobStage.NotAccepted, mayDeliverHere: true);
        return exception;
    }

    private Exception NewDroppedException(DeadLetterReason reason) => reason == DeadLetterReason.Dropped
        ? new JobDroppedException($"The buffer of batcher '{Name}' was full ({FullLimit()}): the new job was dropped ({_settings.Overflow}).")
        : new BatcherFullException($"The buffer of batcher '{Name}' is full ({FullLimit()}) and its overflow policy is Reject: the job was rejected.");

    /// <summary>The limit the buffer is full by, for a refusal's message: the count Capacity or the weight budget.</summary>
    private string FullLimit() => _intake.FullByCount
        ? $"Capacity: {_settings.Capacity} jobs"
        : $"MaxBufferedWeight: {_intake.WeightInUse} of {_settings.MaxBufferedWeight} in use";

    /// <summary>
    /// Makes room by evicting the oldest queued jobs, as many as the new job needs to fit both the count and the weight
    /// budget; the new job takes a place at the end of the line. Returns false when the queued jobs cannot make room
    /// (every other place is held by jobs in handler calls or waiting for a retry): the jobs evicted on the way stay
    /// dropped, and the new job is dropped too.
    /// </summary>
    private bool TryEvictOldest(long weight, out long position)
    {
        var spinner = default(SpinWait);
        QueuedJob<TJob> first = default;
        List<QueuedJob<TJob>>? more = null;
        int evicted = 0;
        long evictedWeight = 0;
        bool placed = false;
        position = 0;
        while (!placed)
        {
            Intake<TJob>.Head head;
            lock (_intake.ConsumerLock)
            {
                head = _intake.TryPeek(out QueuedJob<TJob> oldest);
                if (head == Intake<TJob>.Head.Ready)
                {
                    object? state = oldest.State is RetryTicket t ? t.Inner : oldest.State;
                    if (state is JobCompletion<TJob, TResult> claimed && !claimed.TryClaim())
                    {
                        // Its caller cancelled just now: that gave a place back, but it may be taken; evict another.
                        _intake.Discard((IDroppableState)oldest.State!);
                        _intake.Advance();
                        continue;
                    }

                    _intake.Advance();
                    if (evicted++ == 0)
                    {
                        first = oldest;
                    }
                    else
                    {
                        (more ??= []).Add(oldest);
                    }

                    evictedWeight += oldest.Weight;

                    // The new job's place is taken before the evicted ones' are given back: no third add slips in.
                    if (_intake.FitsAfterEviction(weight, evicted, evictedWeight))
                    {
                        position = _intake.ClaimOverCapacity(weight);
                        placed = true;
                    }

                    continue;
                }
            }

            if (head == Intake<TJob>.Head.Empty || spinner.Count >= 100)
            {
                break;
            }

            // The oldest job is still being published by its producer.
            spinner.SpinOnce();
        }

        if (evicted > 0)
        {
            DropEvicted(first);
            foreach (QueuedJob<TJob> job in more ?? [])
            {
                DropEvicted(job);
            }
        }

        return placed;
    }

    private void DropEvicted(in QueuedJob<TJob> evicted)
    {
        int attempts = 0;
        object? state = evicted.State;
        if (state is RetryTicket ticket)
        {
            state = ticket.Inner;
            attempts = ticket.Attempts;
            _retries.OnDispatched(ticket);
            _retries.OnFinished(ticket.Origin);
        }

        Interlocked.Increment(ref _dropped);
        if (_telemetry.OutcomesEnabled)
        {
            _telemetry.RecordOutcome(Name, "dropped", 1);
        }

        Exception? exception = null;
        TJob job = JobOf(evicted, state);
        if (state is JobCompletion<TJob, TResult> waiter)
        {
            exception = NewOldestDroppedException();
            waiter.TrySetException(exception);
            waiter.ReleaseByBatcher();
        }

        // Without a caller to tell, the exception is created only if a dead-letter callback receives it.
        _outbox.Post(job, DeadLetterReason.Dropped, exception, exception is null ? NewOldestDroppedException : null, attempts, JobStage.Queued, mayDeliverHere: true);
        _intake.Release(1, evicted.Weight);
    }

    /// <summary>The job of a queued entry: an awaited job is held by its completion (see <see cref="JobCompletion{TJob, TResult}.Job"/>).</summary>
    internal static TJob JobOf(in QueuedJob<TJob> queued, object? state) =>
        state is JobCompletion<TJob, TResult> completion ? completion.Job : queued.Job;

    private JobDroppedException NewOldestDroppedException() =>
        new($"The buffer of batcher '{Name}' was full (Capacity: {_settings.Capacity} jobs{(_settings.Weighted ? $", MaxBufferedWeight: {_settings.MaxBufferedWeight}" : "")}): this job, the oldest queued, was dropped to make room (DropOldest).");

    /// <summary>Waits for a place; returns the job's position once it holds one.</summary>
    private async ValueTask<long> WaitForSpaceAsync(long weight, CancellationToken cancellationToken)
    {
        while (true)
        {
            SpaceWaiters.Waiter? waiter = _spaceWaiters.Register(static s => ((Batcher<TJob, TResult>)s!).IsStopping, this, cancellationToken);
            if (waiter is null)
            {
                CountRejected();
                throw NewStoppedWhileWaitingException();
            }

            // Checked again after announcing the wait: a release that came in between has either been seen here or wakes
            // this waiter. A stop that came in between may also have failed the waiter already: whichever of the two
            // completes it counts the refusal, and the add throws the waiter's exception either way.
            if (_intake.TryClaim(weight, out long position))
            {
                waiter.Leave();
                return position;
            }

            if (IsStopping && waiter.Completion.TrySetException(NewStoppedWhileWaitingException()))
            {
                CountRejected();
            }

            try
            {
                await waiter.Completion.Task.ConfigureAwait(false);
            }
            finally
            {
                waiter.Leave();
            }
        }
    }

    private BatcherStoppedException NewStoppedWhileWaitingException() =>
        new($"The batcher '{Name}' began stopping while this add waited for space: the job was refused.");
}
