using Tinybatch.Internal;

namespace Tinybatch;

/// <summary>Flush, stop and drain.</summary>
public sealed partial class Batcher<TJob, TResult>
{
    /// <summary>
    /// Dispatches what is pending now, without waiting for the delay, and completes when every job added before the
    /// call has its final outcome, whatever that outcome is (retries included). Jobs added after the call are not waited
    /// for. Before <see cref="Start"/> it waits for the batcher to start.
    /// </summary>
    /// <param name="cancellationToken">Cancels this wait only; the jobs are still dispatched.</param>
    /// <returns>A task that completes when the earlier jobs have their outcomes.</returns>
    /// <exception cref="InvalidOperationException">Called from inside this batcher's own handler or callbacks, where it would wait for itself.</exception>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_stopped.Task.IsCompleted)
        {
            return Task.CompletedTask;
        }

        CallbackScope.ThrowIfInside(this, Name, nameof(FlushAsync));
        Task flushed = _flushes.Add(_intake.Claimed, cancellationToken);
        Poke();
        if (Volatile.Read(ref _state) == StateStopped)
        {
            // The loop ended while the flush was registered: every earlier job already has its outcome.
            _flushes.CompleteAll();
        }

        return flushed;
    }

    /// <summary>
    /// Stops accepting jobs (later adds are refused: <see cref="TryAdd"/> returns <see langword="false"/>, the others
    /// throw <see cref="BatcherStoppedException"/>), dispatches every accepted job, waits for the handlers and callbacks
    /// in flight, and completes. Calling it again, or concurrently, is safe: every call completes when the drain does.
    /// A stop before <see cref="Start"/> starts the batcher to drain its buffer.
    /// </summary>
    /// <param name="cancellationToken">
    /// The stop deadline. When it fires first, every job still pending, waiting for a retry or in flight fails with
    /// <see cref="BatcherStoppedException"/>, the handlers' token is cancelled, and the call returns normally, without
    /// waiting for handlers or callbacks still running: no job is left hanging.
    /// </param>
    /// <returns>A task that completes when every accepted job has an outcome.</returns>
    /// <exception cref="InvalidOperationException">Called from inside this batcher's own handler or callbacks, where it would wait for itself.</exception>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        CallbackScope.ThrowIfInside(this, Name, nameof(StopAsync));
        BeginStop(fromCallback: false);
        if (!cancellationToken.CanBeCanceled || _stopped.Task.IsCompleted)
        {
            return _stopped.Task;
        }

        return StopWithDeadlineAsync(cancellationToken);
    }

    /// <summary>Stops the batcher and drains it, as <see cref="StopAsync"/> without a deadline does.</summary>
    /// <returns>A task that completes when every accepted job has an outcome.</returns>
    /// <exception cref="InvalidOperationException">Called from inside this batcher's own handler or callbacks, where it would wait for itself.</exception>
    public ValueTask DisposeAsync()
    {
        CallbackScope.ThrowIfInside(this, Name, nameof(DisposeAsync));
        return new(StopAsync());
    }

    /// <summary>
    /// Stops the batcher without waiting: intake closes, and every job still pending, waiting for a retry or in flight
    /// fails at once with <see cref="BatcherStoppedException"/>, as when a <see cref="StopAsync"/> deadline expires. It
    /// never blocks on a handler (one still running keeps running, but its jobs have their outcomes) and never runs a
    /// callback on the calling thread. Prefer <see cref="DisposeAsync"/>, which drains.
    /// </summary>
    public void Dispose()
    {
        BeginStop(fromCallback: true);
        _loop.RequestAbandon();
    }

    /// <summary>The loop failed: the batcher stopped with every job failed, and its completion carries the failure.</summary>
    internal void Fault(Exception exception) => _stopped.TrySetException(exception);

    /// <summary>
    /// The stop deadline expired, or the loop failed: fail everything without an outcome. Runs on the loop, on every pass
    /// once requested, so jobs whose add was in progress, and retries whose policy was still deciding, fail as they
    /// arrive. Dead letters and completion callbacks are posted to the thread pool.
    /// </summary>
    internal void AbandonAll(Exception? loopFailure)
    {
        BatcherStoppedException? failure = null;
        BatcherStoppedException Failure() => failure ??= loopFailure is null
            ? new BatcherStoppedException($"The stop deadline of batcher '{Name}' expired before this job had an outcome.")
            : new BatcherStoppedException($"The dispatch loop of batcher '{Name}' failed: {loopFailure.Message}", loopFailure);

        if (loopFailure is not null)
        {
            Interlocked.Exchange(ref _state, StateStopping);
            CountRejected(_spaceWaiters.FailAll(NewStoppedWhileWaitingException));
        }

        List<QueuedJob<TJob>>? queued = null;
        lock (_intake.ConsumerLock)
        {
            while (_intake.TryPeek(out QueuedJob<TJob> job) == Intake<TJob>.Head.Ready)
            {
                _intake.Advance();
                (queued ??= []).Add(job);
            }
        }

        if (queued is not null)
        {
            foreach (QueuedJob<TJob> job in queued)
            {
                FailQueued(job, Failure());
            }
        }

        foreach (JobEntry<TJob> entry in _retries.TakeAllWaiting())
        {
            FailEntry(entry, Failure(), JobStage.WaitingForRetry);
        }

        foreach (Batch<TJob, TResult> batch in _loop.OutstandingSnapshot())
        {
            Abandon(batch, Failure(), DeadLetterReason.Stopped);
        }

        // Only now cancel the handlers' token: a handler that honours it must not finish first and give its jobs a
        // TaskCanceledException instead of the stop exception. Asynchronously, since its callbacks are user code.
        if (!_handlerCts.IsCancellationRequested)
        {
            _ = CancelQuietlyAsync(_handlerCts);
        }
    }

    /// <summary>Closes intake exactly once; also the lifetime token's callback.</summary>
    private void BeginStop(bool fromCallback)
    {
        int state = Volatile.Read(ref _state);
        while (state < StateStopping)
        {
            int seen = Interlocked.CompareExchange(ref _state, StateStopping, state);
            if (seen == state)
            {
                CountRejected(_spaceWaiters.FailAll(NewStoppedWhileWaitingException));

                _loop.EnsureStarted();
                if (fromCallback)
                {
                    // Inside a token's Cancel(): the loop must not run on the canceller's thread.
                    _loop.PokeLater();
                }
                else
                {
                    Poke();
                }

                return;
            }

            state = seen;
        }
    }

    private async Task StopWithDeadlineAsync(CancellationToken deadline)
    {
        using (deadline.UnsafeRegister(static s => ((DispatchLoop<TJob, TResult>)s!).RequestAbandon(), _loop))
        {
            await _stopped.Task.ConfigureAwait(false);
        }
    }

    /// <summary>A queued job that will never be dispatched fails (the stop deadline); one its caller cancelled is skipped.</summary>
    private void FailQueued(in QueuedJob<TJob> job, Exception exception)
    {
        object? state = job.State;
        int attempts = 0;
        if (state is RetryTicket ticket)
        {
            state = ticket.Inner;
            attempts = ticket.Attempts;
            _retries.OnDispatched(ticket);
            _retries.OnFinished(ticket.Origin);
        }

        if (state is JobCompletion<TJob, TResult> completion && !completion.TryClaim())
        {
            completion.ReleaseByBatcher();
            return;
        }

        FailEntry(new JobEntry<TJob> { Job = JobOf(job, state), State = state, Weight = job.Weight, Attempts = attempts }, exception, JobStage.Queued);
    }

    private void FailEntry(in JobEntry<TJob> entry, Exception exception, JobStage stage)
    {
        Interlocked.Increment(ref _failed);
        if (_telemetry.OutcomesEnabled)
        {
            _telemetry.RecordOutcome(Name, "failed", 1, exception);
        }

        var completion = entry.State as JobCompletion<TJob, TResult>;
        completion?.TrySetException(exception);
        _outbox.Post(entry.Job, DeadLetterReason.Stopped, exception, null, entry.Attempts, stage, mayDeliverHere: false);
        completion?.ReleaseByBatcher();
        _intake.Release(1, entry.Weight);
    }

    /// <summary>The loop ended: every accepted job has its outcome.</summary>
    internal void FinishStop()
    {
        Interlocked.Exchange(ref _state, StateStopped);
        CountRejected(_spaceWaiters.FailAll(NewStoppedWhileWaitingException));

        _flushes.CompleteAll();
        _loop.ReleaseIdleWaiter();
        _lifetimeRegistration.Dispose();
        _stopped.TrySetResult();
    }
}
