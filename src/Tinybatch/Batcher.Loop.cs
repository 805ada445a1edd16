using Tinybatch.Internal;

namespace Tinybatch;

/// <summary>
/// The dispatch loop. It alone owns the queue's consumer side, the "carry" (the first job of the next batch) and the
/// list of outstanding batches, so none of them needs a lock. It never runs user code: handlers run on the thread
/// pool, and every completion it sets continues asynchronously.
/// </summary>
public sealed partial class Batcher<TJob, TResult>
{
    private readonly AsyncSignal _signal = new();
    private readonly ITimer _timer;
    private readonly ObjectPool<Batch<TJob, TResult>> _batchPool;
    private readonly List<Batch<TJob, TResult>> _outstanding = [];
    private readonly List<FlushWaiter> _flushWaiters = [];
    private readonly Queue<JobEntry<TJob>> _staged = new();
    private JobEntry<TJob> _carry;
    private bool _hasCarry;
    private int _canceledSinceCompaction;
    private long _lastBatchId;
    private long _forceThroughBatchId;
    private long _timerArmedFor = JobEntry<TJob>.NotStamped;
    private int _timerFired;
    private int _sleeping;
    private int _wakeRequested;
    private long _wakeThreshold = 1;
    private TaskCompletionSource? _idleWaiter;

    /// <summary>Test hook: completes when the loop next goes to sleep with no batch in flight.</summary>
    internal Task WhenIdleAsync()
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _idleWaiter, waiter);
        Poke();
        return waiter.Task;
    }

    /// <summary>Asks the loop to look again: something other than a plain add happened.</summary>
    private void Poke()
    {
        Interlocked.Exchange(ref _wakeRequested, 1);
        Wake();
    }

    private void Wake()
    {
        if (Volatile.Read(ref _sleeping) != 0 && Interlocked.Exchange(ref _sleeping, 0) != 0)
        {
            _signal.Set();
        }
    }

    private void OnTimer()
    {
        Interlocked.Exchange(ref _timerFired, 1);
        Poke();
    }

    private async Task RunLoopAsync()
    {
        try
        {
            while (true)
            {
                Interlocked.Exchange(ref _wakeRequested, 0);
                if (Interlocked.Exchange(ref _timerFired, 0) != 0)
                {
                    // Fired, so no longer armed: if it fired early, the next ArmTimer arms it again.
                    _timerArmedFor = JobEntry<TJob>.NotStamped;
                }

                CollectFinishedBatches();
                if (Volatile.Read(ref _canceledSinceCompaction) > _compactionThreshold)
                {
                    Compact();
                }

                if (Volatile.Read(ref _abandonRequested) != 0)
                {
                    AbandonAll();
                }

                if (TryDispatch())
                {
                    continue;
                }

                if (Volatile.Read(ref _state) >= StateStopping && IsDrained())
                {
                    break;
                }

                ArmTimer();
                if (PrepareToSleep())
                {
                    await _signal.WaitAsync().ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex)
        {
            // A defect in the loop itself. Nothing may be left hanging: fail whatever is left, visibly.
            Interlocked.Exchange(ref _state, StateStopping);
            Interlocked.Exchange(ref _abandonRequested, 1);
            try
            {
                AbandonAll(new BatcherStoppedException($"The dispatch loop of batcher '{_name}' failed: {ex.Message}", ex));
            }
            catch (Exception inner) when (inner is not OutOfMemoryException)
            {
                _stopped.TrySetException(new AggregateException(ex, inner));
            }
        }

        FinishStop();
    }

    private bool SlotFree => Volatile.Read(ref _inFlightBatches) < _maxConcurrentBatches;

    /// <summary>Publishes what should wake the loop, then checks once more that nothing already has.</summary>
    private bool PrepareToSleep()
    {
        long threshold = !_hasCarry ? 1 : SlotFree ? _maxBatchSize : long.MaxValue;
        Volatile.Write(ref _wakeThreshold, threshold);
        Interlocked.Exchange(ref _sleeping, 1);

        bool work = Volatile.Read(ref _wakeRequested) != 0
            || (!_hasCarry && (_staged.Count > 0 || !_queue.IsEmpty))
            || (_hasCarry && SlotFree
                && (IsFullBatchQueued()
                    || (_weigher is not null && Volatile.Read(ref _pendingWeight) >= _maxBatchWeight)));
        if (work && Interlocked.Exchange(ref _sleeping, 0) != 0)
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

    private bool TryDispatch()
    {
        if (!_hasCarry && !TakeHead())
        {
            return false;
        }

        if (!SlotFree || !IsDue())
        {
            return false;
        }

        DispatchBatch();
        return true;
    }

    /// <summary>Moves the oldest live job into the carry, consuming flush markers and cancelled jobs before it.</summary>
    private bool TakeHead()
    {
        while (TryDequeue(out JobEntry<TJob> entry))
        {
            if (entry.Flush is not null)
            {
                Interlocked.Decrement(ref _flushRequests);
                RegisterFlush(entry.Flush, _lastBatchId);
                continue;
            }

            if (CompletionOf(entry) is { IsCanceled: true } canceled)
            {
                canceled.ReleaseByBatcher();
                ReleaseOrigin(entry);
                continue;
            }

            _carry = entry;
            _hasCarry = true;
            StampCarry();
            return true;
        }

        return false;
    }

    /// <summary>The next entry in FIFO order: the loop's staged entries come before everything still in the queue.</summary>
    private bool TryDequeue(out JobEntry<TJob> entry) =>
        _staged.Count > 0 ? _staged.TryDequeue(out entry) : _queue.TryDequeue(out entry);

    /// <summary>
    /// Drops the entries of callers who cancelled while queued. They gave their place back at once, but a lock-free
    /// queue cannot remove from the middle: behind a stalled handler they would pile up without bound. The loop moves
    /// the live entries, in order, into its own staging queue and lets the cancelled ones go.
    /// </summary>
    private void Compact()
    {
        Interlocked.Exchange(ref _canceledSinceCompaction, 0);
        int staged = _staged.Count;
        for (int i = 0; i < staged; i++)
        {
            KeepIfLive(_staged.Dequeue());
        }

        while (_queue.TryDequeue(out JobEntry<TJob> entry))
        {
            KeepIfLive(entry);
        }

        void KeepIfLive(JobEntry<TJob> entry)
        {
            if (entry.State is JobCompletion<TJob, TResult> { IsCanceled: true } canceled)
            {
                canceled.ReleaseByBatcher();
                ReleaseOrigin(entry);
            }
            else
            {
                _staged.Enqueue(entry);
            }
        }
    }

    /// <summary>A head that was not stamped at add time (see NeedsStamp) counts its wait from now.</summary>
    private void StampCarry()
    {
        if (_stampJobs && _carry.Timestamp == JobEntry<TJob>.NotStamped)
        {
            _carry.Timestamp = Now();
        }
    }

    private bool IsDue()
    {
        if (_lastBatchId < _forceThroughBatchId
            || Volatile.Read(ref _flushRequests) > 0
            || Volatile.Read(ref _state) >= StateStopping
            || IsFullBatchQueued()
            || (_weigher is not null && Volatile.Read(ref _pendingWeight) >= _maxBatchWeight)
            || (_mode == BatchingMode.Adaptive && Volatile.Read(ref _inFlightBatches) == 0)
            || _maxBatchDelay == TimeSpan.Zero
            || (_flushWaiters.Count > 0 && OldestRetryOrigin() <= _forceThroughBatchId))
        {
            // The last case: a flush waits for a retried job, so nothing may linger in front of it.
            return true;
        }

        // Jobs carry no add time when no deadline can release them (see _stampJobs).
        return _stampJobs && _carry.Timestamp != JobEntry<TJob>.NotStamped
            && _time.GetElapsedTime(_carry.Timestamp) >= _maxBatchDelay;
    }

    /// <summary>
    /// Whether a full batch is waiting: as many live reservations as a batch holds, and the jobs themselves in the queue
    /// behind the carry. A reservation counts as soon as a producer takes its place, before its job is enqueued; without
    /// the second check the loop could cut, in that instant, a batch short of the job still on its way.
    /// </summary>
    private bool IsFullBatchQueued() =>
        Volatile.Read(ref _pendingSlot.Value) >= _maxBatchSize
        && _staged.Count + _queue.Count >= _maxBatchSize - 1;

    /// <summary>Arms the delay timer for the carry's deadline, when only time can make the next batch due.</summary>
    private void ArmTimer()
    {
        if (!_hasCarry || !SlotFree || !_stampJobs || _carry.Timestamp == JobEntry<TJob>.NotStamped)
        {
            return;
        }

        // The deadline is the carry's add time plus the delay: a timer armed for the same add time is already right.
        if (_carry.Timestamp == _timerArmedFor)
        {
            return;
        }

        TimeSpan remaining = _maxBatchDelay - _time.GetElapsedTime(_carry.Timestamp);
        if (remaining < TimeSpan.Zero)
        {
            remaining = TimeSpan.Zero;
        }

        // The system timer counts whole milliseconds and would truncate: round up so it never fires before the
        // deadline. Other clocks (a fake one in tests) get the exact remainder.
        if (_systemClock)
        {
            remaining = TimeSpan.FromTicks((remaining.Ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond * TimeSpan.TicksPerMillisecond);
        }

        _timerArmedFor = _carry.Timestamp;
        _timer.Change(remaining, Timeout.InfiniteTimeSpan);
    }

    private void DispatchBatch()
    {
        // The clock is user code (a TimeProvider) and may throw: read it before any job leaves the queue or the carry,
        // where the loop's failure handling still finds every job.
        long dispatched = Now();
        Batch<TJob, TResult> batch = _batchPool.TryRent() ?? new Batch<TJob, TResult>(_maxBatchSize);
        JobEntry<TJob>[] entries = batch.Entries;
        int count = 0;
        long weight = 0;
        FlushWaiter? marker = null;

        if (TryClaimOrRelease(_carry))
        {
            entries[count] = _carry;
            entries[count++].Attempts++;
            weight = _carry.Weight;
        }

        _hasCarry = false;
        _carry = default;

        // One pass, straight from the queue into the batch: each job is copied once.
        while (count < _maxBatchSize && (_staged.Count > 0 ? _staged.TryDequeue(out entries[count]) : _queue.TryDequeue(out entries[count])))
        {
            ref JobEntry<TJob> entry = ref entries[count];
            object? state = entry.State;
            if (state is FlushWaiter flush)
            {
                // Jobs after a flush marker belong to later batches.
                Interlocked.Decrement(ref _flushRequests);
                marker = flush;
                entry = default;
                break;
            }

            if (state is JobCompletion<TJob, TResult> { IsCanceled: true } canceled)
            {
                canceled.ReleaseByBatcher();
                ReleaseOrigin(entry);
                entry = default;
                continue;
            }

            if (_weigher is not null && weight + entry.Weight > _maxBatchWeight)
            {
                // Weighted jobs are all stamped when added (see NeedsStamp): the new carry keeps its add time.
                _carry = entry;
                _hasCarry = true;
                entry = default;
                break;
            }

            // A caller that cancelled after the check above has already given back its place: leave the job out.
            if (!TryClaimOrRelease(entry))
            {
                entry = default;
                continue;
            }

            entry.Attempts++;
            weight += entry.Weight;
            count++;
        }

        if (count == 0)
        {
            _batchPool.Return(batch);
            if (marker is not null)
            {
                RegisterFlush(marker, _lastBatchId);
            }

            return;
        }

        long id = ++_lastBatchId;
        batch.Id = id;
        batch.Size = count;
        batch.Weight = weight;
        batch.DispatchTimestamp = dispatched;
        if (marker is not null)
        {
            RegisterFlush(marker, id);
        }

        _outstanding.Add(batch);
        Interlocked.Add(ref _inFlightJobs, count);
        Interlocked.Increment(ref _inFlightBatches);
        Interlocked.Increment(ref _batches);
        ReleaseReservation(count, weight);
        _telemetry.RecordDispatch(this, batch, _time);
        batch.WorkItem ??= new BatchWorkItem(this, batch);

        // Local queue: when the loop next sleeps, this same thread runs the handler without waking another worker
        // (idle workers still steal it when the loop stays busy).
        ThreadPool.UnsafeQueueUserWorkItem(batch.WorkItem, preferLocal: true);
    }

    /// <summary>Claims an awaited job for its batch; false (and let go of) when its caller cancelled it first.</summary>
    private bool TryClaimOrRelease(in JobEntry<TJob> entry)
    {
        if (entry.State is JobCompletion<TJob, TResult> completion && !completion.TryClaim())
        {
            completion.ReleaseByBatcher();
            ReleaseOrigin(entry);
            return false;
        }

        return true;
    }

    private void RegisterFlush(FlushWaiter waiter, long waitForBatchId)
    {
        waiter.WaitForBatchId = waitForBatchId;
        _forceThroughBatchId = Math.Max(_forceThroughBatchId, waitForBatchId);
        _flushWaiters.Add(waiter);

        // Look again before sleeping: the flush may already be complete.
        Interlocked.Exchange(ref _wakeRequested, 1);
    }

    /// <summary>Takes back finished batches, releases their slots' bookkeeping and completes the flushes they unblock.</summary>
    private void CollectFinishedBatches()
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

        while (_orphanFlushes.TryDequeue(out FlushWaiter? orphan))
        {
            Interlocked.Decrement(ref _flushRequests);
            RegisterFlush(orphan, _hasCarry ? _lastBatchId + 1 : _lastBatchId);
        }

        if (_flushWaiters.Count == 0)
        {
            return;
        }

        // Every job before a registered marker has left the queue; it is done once its batch is done and, if its
        // handler asked for a retry, once its retries are over.
        long doneThrough = _outstanding.Count > 0 ? _outstanding[0].Id - 1 : _hasCarry ? _lastBatchId : long.MaxValue;
        doneThrough = Math.Min(doneThrough, OldestRetryOrigin() - 1);
        for (int i = _flushWaiters.Count - 1; i >= 0; i--)
        {
            if (_flushWaiters[i].WaitForBatchId <= doneThrough)
            {
                _flushWaiters[i].Completion.TrySetResult();
                _flushWaiters.RemoveAt(i);
            }
        }
    }

    private bool IsDrained() =>
        !_hasCarry
        && _outstanding.Count == 0
        && Volatile.Read(ref _pendingSlot.Value) <= 0
        && Volatile.Read(ref _retryWaiting) == 0
        && _staged.Count == 0
        && _queue.IsEmpty
        && _finished.IsEmpty
        && Volatile.Read(ref _callbacksPending) == 0;

    private void FinishStop()
    {
        Interlocked.Exchange(ref _state, StateStopped);
        _timer.Dispose();
        FailSpaceWaiters();

        // Flushes that raced with the end: every job before them has an outcome now.
        while (TryDequeue(out JobEntry<TJob> entry))
        {
            entry.Flush?.Completion.TrySetResult();
            CompletionOf(entry)?.ReleaseByBatcher();
            ReleaseOrigin(entry);
        }

        while (_orphanFlushes.TryDequeue(out FlushWaiter? orphan))
        {
            orphan.Completion.TrySetResult();
        }

        foreach (FlushWaiter waiter in _flushWaiters)
        {
            waiter.Completion.TrySetResult();
        }

        _flushWaiters.Clear();
        Interlocked.Exchange(ref _idleWaiter, null)?.TrySetResult();
        _lifetimeRegistration.Dispose();
        _stopped.TrySetResult();
    }

    /// <summary>The thread-pool work item that runs one batch; pooled with its batch.</summary>
    internal sealed class BatchWorkItem(Batcher<TJob, TResult> owner, Batch<TJob, TResult> batch) : IThreadPoolWorkItem
    {
        public void Execute() => owner.RunBatch(batch);
    }
}
