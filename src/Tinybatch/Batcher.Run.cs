using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Tinybatch.Internal;

namespace Tinybatch;

/// <summary>Running a batch on the thread pool and turning what its handler reported into each job's outcome.</summary>
public sealed partial class Batcher<TJob, TResult>
{
    private readonly object _retryLock = new();
    private readonly HashSet<DelayedRetry> _delayedRetries = [];
    private readonly SortedDictionary<long, int> _retryOrigins = [];
    private int _retryOriginCount;
    private const int OutboxLimit = 1024;
    private readonly ConcurrentQueue<OutboxLetter> _outbox = new();
    private int _outboxDraining;
    private string? _oldestDroppedMessage;
    private int _callbacksPending;

    private void RunBatch(Batch<TJob, TResult> batch)
    {
        batch.Activity = BatcherTelemetry.StartBatchActivity(this, batch);
        CancellationToken token = _handlerCts.Token;
        if (_handlerTimeout != Timeout.InfiniteTimeSpan)
        {
            var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            batch.TimeoutSource = timeout;
            token = timeout.Token;
            batch.TimeoutTimer = _time.CreateTimer(
                static s => ((TimeoutWatch)s!).Expire(), new TimeoutWatch(this, batch, batch.Id), _handlerTimeout, Timeout.InfiniteTimeSpan);
        }

        ValueTask pending;
        try
        {
            pending = _handler(batch, token);
        }
        catch (Exception ex)
        {
            Complete(batch, ex);
            return;
        }

        if (pending.IsCompleted)
        {
            Exception? failure = null;
            try
            {
                pending.GetAwaiter().GetResult();
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            Complete(batch, failure);
            return;
        }

        // Nobody awaits it: it catches everything and hands the outcome to Complete. Pooled, so a slow batch allocates nothing.
#pragma warning disable CA2012
        _ = AwaitHandlerAsync(pending, batch);
#pragma warning restore CA2012
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitHandlerAsync(ValueTask pending, Batch<TJob, TResult> batch)
    {
        Exception? failure = null;
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        Complete(batch, failure);
    }

    /// <summary>The handler returned (or threw): apply what it reported, unless the batch was abandoned first.</summary>
    private void Complete(Batch<TJob, TResult> batch, Exception? handlerException)
    {
        if (Interlocked.CompareExchange(ref batch.Finalized, 1, 0) != 0)
        {
            return;
        }

        batch.TimeoutTimer?.Dispose();
        batch.TimeoutSource?.Dispose();
        batch.HandlerException = handlerException;
        ApplyOutcomes(batch, handlerException, forced: null, DeadLetterReason.Failed);
        Retire(batch);
    }

    /// <summary>
    /// Gives up on a batch whose handler has not returned (stop deadline or handler timeout): every job fails with
    /// <paramref name="exception"/> now. The batch is never pooled again, since the handler may still hold it.
    /// </summary>
    private void Abandon(Batch<TJob, TResult> batch, Exception exception, DeadLetterReason reason)
    {
        if (Interlocked.CompareExchange(ref batch.Finalized, 1, 0) != 0)
        {
            return;
        }

        batch.Abandoned = true;
        batch.HandlerException = exception;
        try
        {
            batch.TimeoutSource?.Cancel();
        }
        catch (AggregateException)
        {
            // Exceptions of the handler's own token callbacks are the handler's; the batch is failed either way.
        }

        ApplyOutcomes(batch, exception, exception, reason);
        Retire(batch);
    }

    private void ApplyOutcomes(Batch<TJob, TResult> batch, Exception? handlerException, Exception? forced, DeadLetterReason forcedReason)
    {
        long succeeded = 0;
        long failed = 0;
        bool retryBatch = handlerException is not null && forced is null && _retryFailedBatches;
        JobEntry<TJob>[] entries = batch.Entries;
        JobStatus[] statuses = batch.Statuses;
        for (int i = 0; i < batch.Size; i++)
        {
            ref JobEntry<TJob> entry = ref entries[i];
            JobStatus status = forced is null ? statuses[i] : JobStatus.Failed;
            if (status == JobStatus.Succeeded)
            {
                // The common case, kept short.
                succeeded++;
                ReleaseOrigin(entry);
                if (entry.State is JobCompletion<TJob, TResult> done)
                {
                    done.TrySetResult(batch.Results[i]!);
                    done.ReleaseByBatcher();
                }

                continue;
            }

            batch.HasExceptions = true;
            Exception? exception = forced ?? batch.Exceptions[i];
            DeadLetterReason reason = forced is null ? DeadLetterReason.Failed : forcedReason;
            if (status == JobStatus.Pending && _unsetJobsSucceed && handlerException is null)
            {
                succeeded++;
                statuses[i] = JobStatus.Succeeded;
                ReleaseOrigin(entry);
                continue;
            }

            if (status == JobStatus.Pending)
            {
                status = retryBatch ? JobStatus.Retry : JobStatus.Failed;
                exception = handlerException ?? new InvalidOperationException(
                    $"The handler of batch {batch.Id} (batcher '{_name}') returned without an outcome for job {i}.");
            }

            if (status == JobStatus.Retry)
            {
                if (entry.Attempts < _maxAttempts && !MayRetry(entry.Attempts + 1, exception))
                {
                    // The policy refuses this reason: an ordinary failure, not an exhausted retry.
                    exception ??= new InvalidOperationException($"The retry policy of batcher '{_name}' refused to retry the job.");
                }
                else if (entry.Attempts < _maxAttempts && Volatile.Read(ref _abandonRequested) == 0)
                {
                    batch.Statuses[i] = JobStatus.Retry;
                    batch.Exceptions[i] = exception;
                    ScheduleRetry(entry, exception, batch.Id);
                    continue;
                }
                else
                {
                    reason = DeadLetterReason.RetriesExhausted;
                    exception ??= new InvalidOperationException(
                        $"The job was retried {entry.Attempts} times by batcher '{_name}' without succeeding.");
                }
            }

            // Successes left the loop at the top and retries went back to the queue: what is left has failed.
            batch.Statuses[i] = JobStatus.Failed;
            batch.Exceptions[i] = exception;
            ReleaseOrigin(entry);
            failed++;
            CompletionOf(entry)?.TrySetException(exception!);
            DeadLetter(entry.Job, reason, exception!, entry.Attempts);
            CompletionOf(entry)?.ReleaseByBatcher();
        }

        Interlocked.Add(ref _succeeded, succeeded);
        Interlocked.Add(ref _failed, failed);
        if (_onBatchCompleted is not null)
        {
            try
            {
                _onBatchCompleted(batch);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref _callbackFailures);
            }
        }
    }

    /// <summary>Hands a finished batch back to the loop and frees its slot.</summary>
    private void Retire(Batch<TJob, TResult> batch)
    {
        try
        {
            // User code runs here (the clock, metric and activity listeners): should it throw, the batch must still go
            // back to the loop, or its slot and every flush and stop behind it would wait forever.
            RecordCompletion(batch);
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _callbackFailures);
        }

        Interlocked.Add(ref _inFlightJobs, -batch.Size);
        _finished.Enqueue(batch);
        Interlocked.Decrement(ref _inFlightBatches);
        Poke();
    }

    private void RecordCompletion(Batch<TJob, TResult> batch)
    {
        _telemetry.RecordCompletion(this, batch, _time);
        if (batch.Activity is { } activity)
        {
            if (batch.HandlerException is { } failure)
            {
                activity.SetStatus(ActivityStatusCode.Error, failure.Message);
                activity.SetTag("exception.type", failure.GetType().FullName);
            }

            activity.Dispose();
        }
    }

    private void ScheduleRetry(JobEntry<TJob> entry, Exception? reason, long batchId)
    {
        Interlocked.Increment(ref _retried);
        if (entry.Origin == 0)
        {
            entry.Origin = batchId;
            lock (_retryLock)
            {
                _retryOrigins[batchId] = _retryOrigins.GetValueOrDefault(batchId) + 1;
                _retryOriginCount++;
            }
        }

        TimeSpan delay = TimeSpan.Zero;
        if (_retry is not null)
        {
            try
            {
                delay = _retry.GetDelay(entry.Attempts + 1, reason);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref _callbackFailures);
            }
        }

        if (delay <= TimeSpan.Zero)
        {
            Requeue(entry);
            return;
        }

        Interlocked.Increment(ref _retryWaiting);
        var retry = new DelayedRetry(this, entry);
        lock (_retryLock)
        {
            _delayedRetries.Add(retry);
        }

        retry.Arm(_time, delay);
    }

    private void Requeue(JobEntry<TJob> entry)
    {
        CompletionOf(entry)?.Requeue();
        entry.Timestamp = Now();
        Interlocked.Increment(ref _pendingSlot.Value);
        if (_weigher is not null)
        {
            Interlocked.Add(ref _pendingWeight, entry.Weight);
        }

        _queue.Enqueue(entry);
        Poke();
    }

    private void OnRetryDue(DelayedRetry retry)
    {
        lock (_retryLock)
        {
            if (!_delayedRetries.Remove(retry))
            {
                return;
            }
        }

        // Counted as pending before it stops counting as waiting, so a drain never sees it nowhere.
        Requeue(retry.Entry);
        Interlocked.Decrement(ref _retryWaiting);
        Poke();
    }

    /// <summary>Asks the retry policy whether this reason may be retried; a policy that throws counts as "no".</summary>
    private bool MayRetry(int nextAttempt, Exception? reason)
    {
        if (_retry is null)
        {
            return true;
        }

        try
        {
            return _retry.ShouldRetry(nextAttempt, reason);
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _callbackFailures);
            return false;
        }
    }

    /// <summary>A job that went through a retry has its final outcome: flushes no longer wait for it.</summary>
    private void ReleaseOrigin(in JobEntry<TJob> entry)
    {
        if (entry.Origin == 0)
        {
            return;
        }

        lock (_retryLock)
        {
            int left = _retryOrigins[entry.Origin] - 1;
            if (left == 0)
            {
                _retryOrigins.Remove(entry.Origin);
            }
            else
            {
                _retryOrigins[entry.Origin] = left;
            }

            _retryOriginCount--;
        }

        Poke();
    }

    /// <summary>The oldest batch that still has a retried job without a final outcome, or <see cref="long.MaxValue"/>.</summary>
    private long OldestRetryOrigin()
    {
        if (Volatile.Read(ref _retryOriginCount) == 0)
        {
            return long.MaxValue;
        }

        lock (_retryLock)
        {
            foreach (long origin in _retryOrigins.Keys)
            {
                return origin;
            }
        }

        return long.MaxValue;
    }

    /// <summary>
    /// A dead letter decided on a producer's thread (a rejection or a drop at add time) waits in the outbox and is
    /// reported from the thread pool, so the callback does not run inside the producer's add. One drain runs at a time.
    /// When the outbox holds <see cref="OutboxLimit"/> letters (a flood faster than the callback), the producer delivers
    /// the oldest letter itself before it returns: the outbox, and so memory, stays bounded. Stop waits for the outbox.
    /// </summary>
    private void DeadLetterLater(TJob job, DeadLetterReason reason, Exception? exception, int attempts)
    {
        if (_onDeadLetter is null)
        {
            return;
        }

        int backlog = Interlocked.Increment(ref _callbacksPending);
        _outbox.Enqueue(new OutboxLetter(job, reason, exception, attempts));
        if (backlog > OutboxLimit && _outbox.TryDequeue(out OutboxLetter oldest))
        {
            Deliver(oldest);
        }

        if (Volatile.Read(ref _outboxDraining) == 0 && Interlocked.Exchange(ref _outboxDraining, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static owner => owner.DrainOutbox(), this, preferLocal: false);
        }
    }

    private void DrainOutbox()
    {
        while (true)
        {
            while (_outbox.TryDequeue(out OutboxLetter letter))
            {
                Deliver(letter);
            }

            Volatile.Write(ref _outboxDraining, 0);

            // A letter enqueued after the last TryDequeue but before the flag was cleared saw the drain running.
            if (_outbox.IsEmpty || Interlocked.Exchange(ref _outboxDraining, 1) != 0)
            {
                break;
            }
        }
    }

    private void Deliver(in OutboxLetter letter)
    {
        DeadLetter(letter.Job, letter.Reason, letter.Exception ?? NewOldestDroppedException(), letter.Attempts);
        if (Interlocked.Decrement(ref _callbacksPending) == 0)
        {
            Poke();
        }
    }

    private JobDroppedException NewOldestDroppedException() => new(_oldestDroppedMessage ??=
        $"The buffer of batcher '{_name}' was full ({_capacity} jobs): this job, the oldest queued, was dropped to make room (DropOldest).");

    private void DeadLetter(TJob job, DeadLetterReason reason, Exception exception, int attempts)
    {
        if (_onDeadLetter is null)
        {
            return;
        }

        try
        {
            _onDeadLetter(new DeadLetter<TJob>(job, reason, exception, attempts, StageOf(reason, attempts)));
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _callbackFailures);
        }
    }

    private static JobStage StageOf(DeadLetterReason reason, int attempts) => reason switch
    {
        DeadLetterReason.Rejected => JobStage.NotAccepted,
        DeadLetterReason.Dropped => attempts == 0 ? JobStage.NotAccepted : JobStage.Queued,
        DeadLetterReason.TimedOut => JobStage.InHandler,
        DeadLetterReason.Stopped => JobStage.Queued,
        _ => JobStage.Completed,
    };

    /// <summary>Fails a queued job that will never be dispatched; false if its caller had cancelled it already.</summary>
    private bool FailQueued(JobEntry<TJob> entry, Exception exception, DeadLetterReason reason)
    {
        ReleaseOrigin(entry);
        if (CompletionOf(entry) is { } completion && !completion.TryClaim())
        {
            completion.ReleaseByBatcher();
            return false;
        }

        Interlocked.Increment(ref _failed);
        CompletionOf(entry)?.TrySetException(exception);
        CompletionOf(entry)?.ReleaseByBatcher();
        DeadLetter(entry.Job, reason, exception, entry.Attempts);
        return true;
    }

    /// <summary>Fails a batch whose handler outlives <see cref="BatcherOptions.HandlerTimeout"/>.</summary>
    private sealed class TimeoutWatch(Batcher<TJob, TResult> owner, Batch<TJob, TResult> batch, long batchId)
    {
        public void Expire()
        {
            // The batch object is pooled: act only if it still holds the dispatch this watch was set for.
            if (batch.Id == batchId)
            {
                owner.Abandon(
                    batch,
                    new TimeoutException($"The handler of batch {batchId} (batcher '{owner._name}') did not finish within {owner._handlerTimeout}."),
                    DeadLetterReason.TimedOut);
            }
        }
    }

    /// <summary>A dead letter waiting in the outbox; a null exception is created when the letter is delivered.</summary>
    private readonly record struct OutboxLetter(TJob Job, DeadLetterReason Reason, Exception? Exception, int Attempts);

    /// <summary>A job waiting out its retry delay.</summary>
    private sealed class DelayedRetry(Batcher<TJob, TResult> owner, JobEntry<TJob> entry)
    {
        private ITimer? _timer;

        public JobEntry<TJob> Entry { get; } = entry;

        public void Arm(TimeProvider time, TimeSpan delay) =>
            _timer = time.CreateTimer(static s => ((DelayedRetry)s!).Fire(), this, delay, Timeout.InfiniteTimeSpan);

        public void Cancel() => _timer?.Dispose();

        private void Fire()
        {
            _timer?.Dispose();
            owner.OnRetryDue(this);
        }
    }
}
