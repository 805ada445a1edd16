using System.Runtime.CompilerServices;
using Tinybatch.Internal;

namespace Tinybatch;

/// <summary>
/// Running a batch on the thread pool and turning what its handler reported into each job's outcome. A batch's outcomes
/// are applied once, by whoever wins a compare-and-swap on <see cref="Batch{TJob}.Finalized"/>: the handler's return,
/// the handler timeout, or the stop deadline. Its slot is given back once, whatever throws in between.
/// </summary>
public sealed partial class Batcher<TJob, TResult>
{
    private static readonly ContextCallback s_runInContext = static s => ((BatchWorkItem)s!).Run();

    /// <summary>The work item that runs a batch, created once per pooled batch.</summary>
    internal IThreadPoolWorkItem CreateWorkItem(Batch<TJob, TResult> batch) => new BatchWorkItem(this, batch);

    /// <summary>A batch was cut: count it and record it.</summary>
    internal void OnDispatched(Batch<TJob, TResult> batch)
    {
        Interlocked.Increment(ref _batches);
        _telemetry.RecordDispatch(Name, batch, _settings.Time);
    }

    /// <summary>Whether the loop must read the clock when it cuts a batch: only while a histogram that uses it listens.</summary>
    internal bool NeedsDispatchTime => _telemetry.DispatchTimeEnabled;

    /// <summary>Marks the current thread as running this batcher's handler or callbacks, for as long as it does.</summary>
    private ExecutionContext CallbackContext => _callbackContext ??= CallbackScope.CaptureFor(this);

    private void RunBatch(Batch<TJob, TResult> batch)
    {
        batch.Activity = BatcherTelemetry.StartBatchActivity(Name, batch);
        CancellationToken token = _handlerCts.Token;
        if (_settings.HandlerTimeout != Timeout.InfiniteTimeSpan)
        {
            var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            batch.TimeoutSource = timeout;
            token = timeout.Token;
            batch.TimeoutTimer = new LongTimer(_settings.Time, _settings.HandlerTimeout, static s => ((TimeoutWatch)s!).Expire(), new TimeoutWatch(this, batch, batch.Id));
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

        bool retireHere = true;
        try
        {
            batch.TimeoutTimer?.Dispose();
            batch.TimeoutSource?.Dispose();
            batch.HandlerException = handlerException;
            ApplyOutcomes(batch, handlerException, forced: null, DeadLetterReason.Failed, JobStage.Completed);
            NotifyCompleted(batch);
            if (_settings.OutageBackoff is { } backoff)
            {
                retireHere = !AskBackoff(backoff, batch, handlerException);
            }
        }
        finally
        {
            if (retireHere)
            {
                Retire(batch);
            }
        }
    }

    /// <summary>
    /// Asks the outage backoff whether the sink is down. The batch keeps its slot until it answers, so no batch is sent
    /// in between; returns true when the answer comes later (the batch is then retired by that continuation, or by the
    /// stop deadline, whichever is first).
    /// </summary>
    private bool AskBackoff(OutageBackoff backoff, Batch<TJob, TResult> batch, Exception? failure)
    {
        ValueTask<TimeSpan> pause;
        try
        {
            pause = backoff.OnHandlerCompletedAsync(failure, _handlerCts.Token);
        }
        catch (Exception)
        {
            CountCallbackFailure();
            return false;
        }

        if (pause.IsCompleted)
        {
            TimeSpan length;
            try
            {
                length = pause.GetAwaiter().GetResult();
            }
            catch (Exception)
            {
                CountCallbackFailure();
                return false;
            }

            ApplyPause(length);
            return false;
        }

        batch.AwaitingBackoff = true;
        _ = AwaitBackoffAsync(pause, batch);
        return true;
    }

    private async Task AwaitBackoffAsync(ValueTask<TimeSpan> pending, Batch<TJob, TResult> batch)
    {
        try
        {
            ApplyPause(await pending.ConfigureAwait(false));
        }
        catch (Exception)
        {
            if (!_handlerCts.IsCancellationRequested)
            {
                CountCallbackFailure();
            }
        }
        finally
        {
            Retire(batch);
        }
    }

    private void ApplyPause(TimeSpan length)
    {
        if (length > TimeSpan.Zero && !IsAbandoning)
        {
            _loop.Pause(length);
        }
    }

    private bool IsAbandoning => _loop.IsAbandoning;

    /// <summary>
    /// Gives up on a batch whose handler has not returned (stop deadline or handler timeout): every job fails with
    /// <paramref name="exception"/> now. The batch is never pooled again, since the handler may still hold it.
    /// </summary>
    private void Abandon(Batch<TJob, TResult> batch, Exception exception, DeadLetterReason reason)
    {
        if (Interlocked.CompareExchange(ref batch.Finalized, 1, 0) != 0)
        {
            // Its outcomes are applied, but it still holds its slot while user code runs for it (a blocking completion
            // or dead-letter callback, a retry policy, the outage backoff): the deadline frees the slot now, and the
            // batch, still in use, never goes back to the pool.
            if (reason == DeadLetterReason.Stopped)
            {
                batch.Abandoned = true;
                Retire(batch);
            }

            return;
        }

        batch.Abandoned = true;
        batch.HandlerException = exception;
        try
        {
            ApplyOutcomes(batch, exception, exception, reason, JobStage.InHandler);
            PostCompleted(batch);
        }
        finally
        {
            Retire(batch);
        }

        // Its handler's token: callbacks registered on it are the handler's code, so not inline here.
        if (batch.TimeoutSource is { } timeout)
        {
            _ = CancelQuietlyAsync(timeout);
        }
    }

    private static async Task CancelQuietlyAsync(CancellationTokenSource source)
    {
        try
        {
            await source.CancelAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Exceptions of the handler's own token callbacks are the handler's; the batch is failed either way.
        }
    }

    /// <summary>
    /// Gives every job of a finished batch its outcome. First every job is settled (completed, failed, or handed to the
    /// retry scheduler) with no user code running, so a stop deadline that fires while user code runs afterwards (the
    /// retry policy, the dead-letter callback) finds each job settled or owned by the scheduler, never in between.
    /// </summary>
    private void ApplyOutcomes(Batch<TJob, TResult> batch, Exception? handlerException, Exception? forced, DeadLetterReason forcedReason, JobStage stage)
    {
        long succeeded = 0;
        long failed = 0;
        long finishedWeight = 0;
        int finished = 0;
        List<RetryScheduler<TJob>.PendingRetry>? retries = null;
        List<(int Index, DeadLetterReason Reason)>? letters = null;
        bool retryBatch = handlerException is not null && forced is null && _settings.RetryFailedBatches;
        bool unsetSucceeds = _settings.UnsetJobsSucceed && handlerException is null && forced is null;
        JobEntry<TJob>[] entries = batch.Entries;
        JobStatus[] statuses = batch.Statuses;
        for (int i = 0; i < batch.Size; i++)
        {
            ref JobEntry<TJob> entry = ref entries[i];
            JobStatus status = forced is null ? statuses[i] : JobStatus.Failed;
            if (status == JobStatus.Succeeded || (status == JobStatus.Pending && unsetSucceeds))
            {
                // The common case, kept short.
                statuses[i] = JobStatus.Succeeded;
                succeeded++;
                finished++;
                finishedWeight += entry.Weight;
                if (entry.Reentered)
                {
                    _retries.OnFinished(entry.Origin);
                }

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
            if (status == JobStatus.Pending)
            {
                status = retryBatch ? JobStatus.Retry : JobStatus.Failed;
                exception = handlerException ?? new InvalidOperationException(
                    $"The handler of batch {batch.Id} (batcher '{Name}') returned without an outcome for job {i}.");
            }

            if (status == JobStatus.Retry)
            {
                if (entry.Attempts < _settings.MaxAttempts && !IsAbandoning)
                {
                    // The scheduler takes the job before any policy code runs; it keeps its place while it waits.
                    statuses[i] = JobStatus.Retry;
                    batch.Exceptions[i] = exception;
                    (retries ??= []).Add(_retries.Track(entry, i));
                    continue;
                }

                reason = DeadLetterReason.RetriesExhausted;
                exception ??= new InvalidOperationException($"The job was retried {entry.Attempts} times by batcher '{Name}' without succeeding.");
            }

            FailInBatch(batch, i, exception!, reason, ref letters);
            failed++;
            finished++;
            finishedWeight += entry.Weight;
        }

        Interlocked.Add(ref _succeeded, succeeded);
        Interlocked.Add(ref _failed, failed);
        _intake.Release(finished, finishedWeight);
        if (retries is not null && IsAbandoning)
        {
            // A stop deadline began meanwhile: let the loop's abandonment take the jobs just handed over.
            Poke();
        }

        // User code from here on.
        if (retries is not null)
        {
            foreach (RetryScheduler<TJob>.PendingRetry pending in retries)
            {
                int i = pending.BatchIndex;
                if (!_retries.Start(pending, batch.Exceptions[i], _handlerCts.Token))
                {
                    // The policy refuses this reason: an ordinary failure, not an exhausted retry.
                    Exception refused = batch.Exceptions[i] ?? new InvalidOperationException($"The retry policy of batcher '{Name}' refused to retry the job.");
                    FailInBatch(batch, i, refused, DeadLetterReason.Failed, ref letters);
                    Interlocked.Increment(ref _failed);
                    _intake.Release(1, entries[i].Weight);
                }
            }
        }

        if (_telemetry.OutcomesEnabled)
        {
            RecordOutcomes(batch, succeeded, retries?.Count ?? 0);
        }

        if (letters is not null)
        {
            foreach ((int index, DeadLetterReason reason) in letters)
            {
                ref JobEntry<TJob> entry = ref entries[index];
                DeadLetter(entry.Job, reason, batch.Exceptions[index]!, entry.Attempts, stage, deliverHere: forced is null);
            }
        }
    }

    /// <summary>Fails one job of a batch: its status, its awaiter; its dead letter is delivered after every job is settled.</summary>
    private void FailInBatch(Batch<TJob, TResult> batch, int index, Exception exception, DeadLetterReason reason, ref List<(int, DeadLetterReason)>? letters)
    {
        ref JobEntry<TJob> entry = ref batch.Entries[index];
        batch.Statuses[index] = JobStatus.Failed;
        batch.Exceptions[index] = exception;
        batch.HasExceptions = true;
        if (entry.Reentered)
        {
            _retries.OnFinished(entry.Origin);
        }

        if (entry.State is JobCompletion<TJob, TResult> completion)
        {
            completion.TrySetException(exception);
            completion.ReleaseByBatcher();
        }

        if (_outbox.IsEnabled)
        {
            (letters ??= []).Add((index, reason));
        }
    }

    private void RecordOutcomes(Batch<TJob, TResult> batch, long succeeded, long retried)
    {
        _telemetry.RecordOutcome(Name, "succeeded", succeeded);
        _telemetry.RecordOutcome(Name, "retried", retried);
        for (int i = 0; i < batch.Size; i++)
        {
            if (batch.Statuses[i] == JobStatus.Failed)
            {
                _telemetry.RecordOutcome(Name, "failed", 1, batch.Exceptions[i]);
            }
        }
    }

    private void NotifyCompleted(Batch<TJob, TResult> batch)
    {
        if (_settings.OnBatchCompleted is { } callback)
        {
            try
            {
                callback(batch);
            }
            catch (Exception)
            {
                CountCallbackFailure();
            }
        }
    }

    /// <summary>The completion callback of an abandoned batch runs on the thread pool: never inside a stop or a <c>Cancel()</c>.</summary>
    private void PostCompleted(Batch<TJob, TResult> batch)
    {
        if (_settings.OnBatchCompleted is not null)
        {
            _outbox.PostCallback(static s => ((CompletedCallback)s!).Run(), new CompletedCallback(this, batch));
        }
    }

    private void DeadLetter(TJob job, DeadLetterReason reason, Exception exception, int attempts, JobStage stage, bool deliverHere)
    {
        if (deliverHere)
        {
            _outbox.Deliver(job, reason, exception, attempts, stage);
        }
        else
        {
            _outbox.Post(job, reason, exception, null, attempts, stage, mayDeliverHere: false);
        }
    }

    /// <summary>Hands a finished batch back to the loop and frees its slot, exactly once.</summary>
    private void Retire(Batch<TJob, TResult> batch)
    {
        if (Interlocked.Exchange(ref batch.Retired, 1) != 0)
        {
            return;
        }

        try
        {
            // User code runs here (the clock, metric and activity listeners): should it throw, the batch must still go
            // back to the loop, or its slot and every flush and stop behind it would wait forever.
            _telemetry.RecordCompletion(Name, batch, _settings.Time);
            if (batch.Activity is { } activity)
            {
                BatcherTelemetry.EndBatchActivity(activity, batch.HandlerException);
            }
        }
        catch (Exception)
        {
            CountCallbackFailure();
        }

        _loop.Retire(batch);
    }

    /// <summary>The retry policy refused a retry it was still deciding: the job fails, its final outcome.</summary>
    void IRetryFailures<TJob>.Fail(in JobEntry<TJob> entry, Exception? reason)
    {
        Exception exception = reason ?? new InvalidOperationException($"The retry policy of batcher '{Name}' refused to retry the job.");
        Interlocked.Increment(ref _failed);
        if (_telemetry.OutcomesEnabled)
        {
            _telemetry.RecordOutcome(Name, "failed", 1, exception);
        }

        var completion = entry.State as JobCompletion<TJob, TResult>;
        completion?.TrySetException(exception);
        _outbox.Post(entry.Job, DeadLetterReason.Failed, exception, null, entry.Attempts, JobStage.Completed, mayDeliverHere: false);
        completion?.ReleaseByBatcher();
        _intake.Release(1, entry.Weight);
    }

    void IRetryFailures<TJob>.OnPolicyFailure() => CountCallbackFailure();

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
                    new TimeoutException($"The handler of batch {batchId} (batcher '{owner.Name}') did not finish within {owner._settings.HandlerTimeout}."),
                    DeadLetterReason.TimedOut);
            }
        }
    }

    /// <summary>The completion callback of an abandoned batch, posted to the outbox.</summary>
    private sealed class CompletedCallback(Batcher<TJob, TResult> owner, Batch<TJob, TResult> batch)
    {
        public void Run() => owner.NotifyCompleted(batch);
    }

    /// <summary>The thread-pool work item that runs one batch, inside the batcher's callback scope; pooled with its batch.</summary>
    private sealed class BatchWorkItem(Batcher<TJob, TResult> owner, Batch<TJob, TResult> batch) : IThreadPoolWorkItem
    {
        public void Execute() => ExecutionContext.Run(owner.CallbackContext, s_runInContext, this);

        public void Run() => owner.RunBatch(batch);
    }
}
