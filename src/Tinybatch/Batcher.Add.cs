using System.Diagnostics;
using System.Runtime.CompilerServices;
using Tinybatch.Internal;

namespace Tinybatch;

public sealed partial class Batcher<TJob, TResult>
{
    private readonly object _spaceLock = new();
    private readonly Queue<TaskCompletionSource> _spaceWaiters = new();
    private int _spaceWaiterCount;

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
    /// <exception cref="JobTooHeavyException">The job weighs more than a weight cap allows.</exception>
    public bool TryAdd(TJob job)
    {
        if (Volatile.Read(ref _state) >= StateStopping)
        {
            Interlocked.Increment(ref _rejected);
            return false;
        }

        long weight = Weigh(job);
        switch (Reserve(weight, out long position))
        {
            case Reservation.Reserved:
                Enqueue(job, weight, null, position);
                return true;
            case Reservation.Full when _overflow == OverflowPolicy.DropOldest && TryEvictOldest(weight):
                Enqueue(job, weight, null);
                return true;
            default:
                // The caller still holds the job, so it is counted but not dead-lettered.
                Interlocked.Increment(ref _rejected);
                return false;
        }
    }

    /// <summary>Adds fire-and-forget jobs without waiting, in order, stopping at the first one refused.</summary>
    /// <param name="jobs">The jobs.</param>
    /// <returns>How many jobs, from the start of <paramref name="jobs"/>, were accepted.</returns>
    /// <exception cref="JobTooHeavyException">A job weighs more than a weight cap allows; the jobs before it were accepted.</exception>
    public int TryAddRange(ReadOnlySpan<TJob> jobs)
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

    /// <summary>Adds fire-and-forget jobs in order, waiting for space as <see cref="AddAsync"/> does.</summary>
    /// <param name="jobs">The jobs.</param>
    /// <param name="cancellationToken">Stops adding: the jobs not yet accepted are left, and the count so far is returned.</param>
    /// <returns>How many jobs were accepted.</returns>
    /// <exception cref="BatcherStoppedException">The batcher is stopping or stopped.</exception>
    public async ValueTask<long> AddRangeAsync(IEnumerable<TJob> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        long accepted = 0;
        foreach (TJob job in jobs)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            try
            {
                await AddAsync(job, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            accepted++;
        }

        return accepted;
    }

    /// <summary>Adds every job of an asynchronous stream, in order, until it ends, waiting for space as <see cref="AddAsync"/> does.</summary>
    /// <param name="source">The stream.</param>
    /// <param name="cancellationToken">Stops reading the stream; the count so far is returned.</param>
    /// <returns>How many jobs were accepted.</returns>
    /// <exception cref="BatcherStoppedException">The batcher is stopping or stopped.</exception>
    public async ValueTask<long> AddRangeAsync(IAsyncEnumerable<TJob> source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        long accepted = 0;
        try
        {
            await foreach (TJob job in source.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                await AddAsync(job, cancellationToken).ConfigureAwait(false);
                accepted++;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return accepted;
    }

    /// <summary>Adds every job read from a channel, in order, until it is completed, waiting for space as <see cref="AddAsync"/> does.</summary>
    /// <param name="source">The channel's reader.</param>
    /// <param name="cancellationToken">Stops reading the channel; the count so far is returned.</param>
    /// <returns>How many jobs were accepted.</returns>
    /// <exception cref="BatcherStoppedException">The batcher is stopping or stopped.</exception>
    public async ValueTask<long> AddRangeAsync(System.Threading.Channels.ChannelReader<TJob> source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        long accepted = 0;
        try
        {
            while (await source.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (source.TryRead(out TJob? job))
                {
                    await AddAsync(job, cancellationToken).ConfigureAwait(false);
                    accepted++;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return accepted;
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
    /// <exception cref="JobTooHeavyException">The job weighs more than <see cref="BatcherOptions.MaxBatchWeight"/>.</exception>
    public ValueTask AddAsync(TJob job, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        ThrowIfClosed();
        long weight = Weigh(job);
        if (TryReserve(weight, out long position))
        {
            Enqueue(job, weight, null, position);
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
    /// <exception cref="JobTooHeavyException">The job weighs more than <see cref="BatcherOptions.MaxBatchWeight"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<TResult> AddAndWaitAsync(TJob job, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<TResult>(cancellationToken);
        }

        ThrowIfClosed();
        long weight = Weigh(job);
        if (TryReserve(weight))
        {
            var completion = JobCompletion<TJob, TResult>.Rent(_completionPool, this, weight);
            ValueTask<TResult> result = completion.Arm(cancellationToken);
            Enqueue(job, weight, completion);
            return result;
        }

        return AddAndWaitWhenFullAsync(job, weight, cancellationToken);
    }

    /// <summary>Called by a job's completion when its caller cancels while the job is still queued.</summary>
    internal void OnQueuedJobCanceled(long weight)
    {
        Interlocked.Increment(ref _canceled);
        Interlocked.Increment(ref _canceledSinceCompaction);
        ReleaseReservation(1, weight);
        Poke();
    }

    private long Weigh(TJob job)
    {
        if (_weigher is null)
        {
            return 1;
        }

        long weight = _weigher(job);
        if (weight < 0)
        {
            Interlocked.Increment(ref _rejected);
            ThrowHelper.ThrowNegativeWeight(_name, weight);
        }

        if (weight > _maxJobWeight)
        {
            Interlocked.Increment(ref _rejected);
            ThrowHelper.ThrowTooHeavy(_name, weight, _maxJobWeight);
        }

        return weight;
    }

    /// <summary>
    /// Takes a place in the buffer. The reservation is made before the state is checked, so that a stop that begins
    /// concurrently either sees it (and waits for the job) or is seen by it (and the add throws): the drain is exact.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReserve(long weight) => TryReserve(weight, out _);

    /// <param name="weight">The job's weight.</param>
    /// <param name="position">The job's place in line once reserved: 1 when nothing else is pending.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReserve(long weight, out long position)
    {
        Reservation reservation = Reserve(weight, out position);
        if (reservation == Reservation.Closed)
        {
            Interlocked.Increment(ref _rejected);
            ThrowHelper.ThrowStopped(_name);
        }

        return reservation == Reservation.Reserved;
    }

    /// <summary>
    /// Takes a place in the buffer, or says why not. It counts nothing, so that a caller that can be refused by two
    /// paths at once (<see cref="WaitForSpaceAsync"/>) counts the refusal exactly once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Reservation Reserve(long weight, out long position)
    {
        position = 0;
        long pending = Volatile.Read(ref _pendingSlot.Value);
        while (true)
        {
            if (pending >= _capacity)
            {
                return Volatile.Read(ref _state) >= StateStopping ? Reservation.Closed : Reservation.Full;
            }

            long seen = Interlocked.CompareExchange(ref _pendingSlot.Value, pending + 1, pending);
            if (seen == pending)
            {
                position = pending + 1;
                break;
            }

            pending = seen;
        }

        if (Volatile.Read(ref _state) >= StateStopping)
        {
            ReleaseReservation(1, 0);
            Poke();
            return Reservation.Closed;
        }

        if (_weigher is not null)
        {
            Interlocked.Add(ref _pendingWeight, weight);
        }

        return Reservation.Reserved;
    }

    private void ReleaseReservation(long count, long weight)
    {
        Interlocked.Add(ref _pendingSlot.Value, -count);
        if (_weigher is not null && weight != 0)
        {
            Interlocked.Add(ref _pendingWeight, -weight);
        }

        if (Volatile.Read(ref _spaceWaiterCount) > 0)
        {
            WakeSpaceWaiters((int)Math.Min(count, int.MaxValue));
        }
    }

    /// <summary>
    /// Whether a job needs its add time. Reading the system clock costs more than the rest of an add on some virtual
    /// machines (60 ns on kvm-clock), so with the system clock only a job that can start a batch is stamped: the first
    /// in line, or one whose place is a multiple of MaxBatchSize behind the head (batches are cut full unless the queue
    /// drains). A head left unstamped by a cancellation, an eviction or two producers racing is stamped when the loop
    /// takes it (<see cref="TakeHead"/>). Weighted jobs, and every job under another clock, are stamped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool NeedsStamp(long position) =>
        _telemetry.WaitTimeEnabled
        || (_stampJobs && (_stampEveryJob || position == 1 || FastMod((uint)(position - 1)) == 0));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint FastMod(uint value) => (uint)(((((_batchSizeMultiplier * value) >> 32) + 1) * (uint)_maxBatchSize) >> 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long Now() => _systemClock ? Stopwatch.GetTimestamp() : _time.GetTimestamp();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfClosed()
    {
        if (Volatile.Read(ref _state) >= StateStopping)
        {
            Interlocked.Increment(ref _rejected);
            ThrowHelper.ThrowStopped(_name);
        }
    }

    private void Enqueue(TJob job, long weight, JobCompletion<TJob, TResult>? completion, long position = 1)
    {
        object? link = BatcherTelemetry.CaptureLink();
        object? state = link;
        if (completion is not null)
        {
            completion.Link = link;
            state = completion;
        }

        var entry = new JobEntry<TJob>
        {
            Job = job,
            State = state,
            Weight = weight,
            Timestamp = NeedsStamp(position) ? Now() : JobEntry<TJob>.NotStamped,
        };

        // Counted before it can be processed, so a snapshot never shows more outcomes than acceptances.
        _accepted.Increment();
        _queue.Enqueue(entry);
        WakeForNewJob();
    }

    /// <summary>Wakes the loop if it sleeps and wants this job: the first of a batch, or the one that fills it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WakeForNewJob()
    {
        if (Volatile.Read(ref _sleeping) != 0
            && (Volatile.Read(ref _pendingSlot.Value) >= Volatile.Read(ref _wakeThreshold)
                || (_weigher is not null && Volatile.Read(ref _pendingWeight) >= _maxBatchWeight)))
        {
            Wake();
        }
    }

    private async ValueTask AddWhenFullAsync(TJob job, long weight, CancellationToken cancellationToken)
    {
        // A dropped fire-and-forget job is reported to the dead-letter callback; its producer is not told.
        if (await MakeRoomAsync(job, weight, cancellationToken).ConfigureAwait(false) is null)
        {
            Enqueue(job, weight, null);
        }
    }

    private async ValueTask<TResult> AddAndWaitWhenFullAsync(TJob job, long weight, CancellationToken cancellationToken)
    {
        if (await MakeRoomAsync(job, weight, cancellationToken).ConfigureAwait(false) is { } dropped)
        {
            throw dropped;
        }

        var completion = JobCompletion<TJob, TResult>.Rent(_completionPool, this, weight);
        ValueTask<TResult> result = completion.Arm(cancellationToken);
        Enqueue(job, weight, completion);
        return await result.ConfigureAwait(false);
    }

    /// <summary>
    /// Applies the overflow policy to an add that found the buffer full: waits for a place, evicts the oldest queued job,
    /// or refuses. Returns <see langword="null"/> when the job holds a place now, or the exception of the dropped job.
    /// <see cref="OverflowPolicy.Reject"/> throws the same exception its dead letter carries.
    /// </summary>
    private async ValueTask<Exception?> MakeRoomAsync(TJob job, long weight, CancellationToken cancellationToken)
    {
        switch (_overflow)
        {
            case OverflowPolicy.Wait:
                await WaitForSpaceAsync(weight, cancellationToken).ConfigureAwait(false);
                return null;
            case OverflowPolicy.Reject:
                throw Refuse(job, DeadLetterReason.Rejected);
            case OverflowPolicy.DropOldest when TryEvictOldest(weight):
                return null;
            default:
                return Refuse(job, DeadLetterReason.Dropped);
        }
    }

    /// <summary>Counts a refused add and reports it to the dead-letter callback; returns the exception of the refusal.</summary>
    private Exception Refuse(TJob job, DeadLetterReason reason)
    {
        Interlocked.Increment(ref _rejected);
        Exception exception = reason == DeadLetterReason.Dropped
            ? new JobDroppedException($"The buffer of batcher '{_name}' was full ({_capacity} jobs): the new job was dropped ({_overflow}).")
            : new BatcherFullException($"The buffer of batcher '{_name}' is full ({_capacity} jobs) and its overflow policy is Reject: the job was rejected.");
        DeadLetterLater(job, reason, exception, 0);
        return exception;
    }

    /// <summary>
    /// Makes room by dropping the oldest job still in the queue; the new job inherits its place. Returns false when
    /// no queued job can be evicted (all pending jobs are already in the batch being cut).
    /// </summary>
    private bool TryEvictOldest(long newWeight)
    {
        while (_queue.TryDequeue(out JobEntry<TJob> oldest))
        {
            if (oldest.Flush is not null)
            {
                // Every job before this marker has left the queue: hand the marker to the loop as if it had read it.
                _orphanFlushes.Enqueue(oldest.Flush);
                Poke();
                continue;
            }

            if (CompletionOf(oldest) is { } completion && !completion.TryClaim())
            {
                completion.ReleaseByBatcher();
                ReleaseOrigin(oldest);
                continue;
            }

            ReleaseOrigin(oldest);

            if (_weigher is not null)
            {
                Interlocked.Add(ref _pendingWeight, newWeight - oldest.Weight);
            }

            Interlocked.Increment(ref _dropped);

            // Without a caller to tell, the exception is created only if a dead-letter callback receives it.
            Exception? exception = null;
            if (CompletionOf(oldest) is { } dropped)
            {
                exception = NewOldestDroppedException();
                dropped.TrySetException(exception);
                dropped.ReleaseByBatcher();
            }

            DeadLetterLater(oldest.Job, DeadLetterReason.Dropped, exception, oldest.Attempts);
            return true;
        }

        return false;
    }

    private async ValueTask WaitForSpaceAsync(long weight, CancellationToken cancellationToken)
    {
        while (true)
        {
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_spaceLock)
            {
                ThrowIfClosed();
                _spaceWaiters.Enqueue(waiter);
                Interlocked.Increment(ref _spaceWaiterCount);
            }

            // Checked again after announcing the wait: a release that came in between has either been seen here or sees us.
            // A stop that came in between may also have failed the announced waiter already: whichever of the two
            // completes the waiter counts the refusal, and the add throws the waiter's exception either way.
            switch (Reserve(weight, out _))
            {
                case Reservation.Reserved:
                    waiter.TrySetResult();
                    return;
                case Reservation.Closed:
                    if (waiter.TrySetException(NewStoppedWhileWaitingException()))
                    {
                        Interlocked.Increment(ref _rejected);
                    }

                    break;
            }

            using (cancellationToken.UnsafeRegister(static (s, t) => ((TaskCompletionSource)s!).TrySetCanceled(t), waiter))
            {
                await waiter.Task.ConfigureAwait(false);
            }

            if (TryReserve(weight))
            {
                return;
            }
        }
    }

    private void WakeSpaceWaiters(int count)
    {
        lock (_spaceLock)
        {
            while (count > 0 && _spaceWaiters.TryDequeue(out TaskCompletionSource? waiter))
            {
                Interlocked.Decrement(ref _spaceWaiterCount);
                if (waiter.TrySetResult())
                {
                    count--;
                }
            }
        }
    }

    private void FailSpaceWaiters()
    {
        lock (_spaceLock)
        {
            while (_spaceWaiters.TryDequeue(out TaskCompletionSource? waiter))
            {
                Interlocked.Decrement(ref _spaceWaiterCount);
                if (waiter.TrySetException(NewStoppedWhileWaitingException()))
                {
                    Interlocked.Increment(ref _rejected);
                }
            }
        }
    }

    private BatcherStoppedException NewStoppedWhileWaitingException() =>
        new($"The batcher '{_name}' began stopping while this add waited for space: the job was refused.");

    /// <summary>What <see cref="Reserve"/> found.</summary>
    private enum Reservation
    {
        /// <summary>The buffer is full; the batcher still accepts jobs.</summary>
        Full,

        /// <summary>The job holds a place.</summary>
        Reserved,

        /// <summary>The batcher is stopping or stopped: the add is refused.</summary>
        Closed,
    }
}
