using Tinybatch.Internal;

namespace Tinybatch;

/// <summary>Flush, stop and drain.</summary>
public sealed partial class Batcher<TJob, TResult>
{
    /// <summary>
    /// Dispatches what is pending now, without waiting for the delay, and completes when every job added before the
    /// call has an outcome, whatever that outcome is. Jobs added after the call are not waited for. Before
    /// <see cref="Start"/> it waits for the batcher to start. Jobs retried after the flush began are not waited for.
    /// </summary>
    /// <param name="cancellationToken">Cancels this wait only; the jobs are still dispatched.</param>
    /// <returns>A task that completes when the earlier jobs have their outcomes.</returns>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_stopped.Task.IsCompleted)
        {
            return Task.CompletedTask;
        }

        var waiter = new FlushWaiter();
        Interlocked.Increment(ref _flushRequests);
        _queue.Enqueue(new JobEntry<TJob> { State = waiter });
        Poke();
        if (Volatile.Read(ref _state) == StateStopped)
        {
            // The loop ended while the marker went in: every earlier job already has its outcome.
            waiter.Completion.TrySetResult();
        }

        return cancellationToken.CanBeCanceled ? waiter.Completion.Task.WaitAsync(cancellationToken) : waiter.Completion.Task;
    }

    /// <summary>
    /// Stops accepting jobs (every later add throws <see cref="BatcherStoppedException"/>), dispatches every accepted job,
    /// waits for the handlers and callbacks in flight, and completes. Calling it again, or concurrently, is safe: every
    /// call completes when the drain does. A stop before <see cref="Start"/> starts the batcher to drain its buffer.
    /// </summary>
    /// <param name="cancellationToken">
    /// The stop deadline. When it fires first, the handlers' token is cancelled, every job still pending or in flight
    /// fails with <see cref="BatcherStoppedException"/>, and the call returns normally: no job is left hanging.
    /// </param>
    /// <returns>A task that completes when every accepted job has an outcome.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        BeginStop();
        if (!cancellationToken.CanBeCanceled || _stopped.Task.IsCompleted)
        {
            return _stopped.Task;
        }

        return StopWithDeadlineAsync(cancellationToken);
    }

    /// <summary>Stops the batcher and drains it, as <see cref="StopAsync"/> without a deadline does.</summary>
    /// <returns>A task that completes when every accepted job has an outcome.</returns>
    public ValueTask DisposeAsync() => new(StopAsync());

    /// <summary>
    /// Stops the batcher without waiting: intake closes, and every job still pending or in flight fails at once with
    /// <see cref="BatcherStoppedException"/>, as when a <see cref="StopAsync"/> deadline expires. It never blocks on a
    /// handler; a handler still running keeps running, but its jobs already have their outcomes. Prefer
    /// <see cref="DisposeAsync"/>, which drains.
    /// </summary>
    public void Dispose()
    {
        BeginStop();
        RequestAbandon();
    }

    private async Task StopWithDeadlineAsync(CancellationToken deadline)
    {
        using (deadline.UnsafeRegister(static s => ((Batcher<TJob, TResult>)s!).RequestAbandon(), this))
        {
            await _stopped.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Closes intake exactly once; also the lifetime token's callback.</summary>
    private void BeginStop()
    {
        int state = Volatile.Read(ref _state);
        while (state < StateStopping)
        {
            int seen = Interlocked.CompareExchange(ref _state, StateStopping, state);
            if (seen == state)
            {
                FailSpaceWaiters();
                EnsureLoop();
                Poke();
                return;
            }

            state = seen;
        }
    }

    private void RequestAbandon()
    {
        Interlocked.Exchange(ref _abandonRequested, 1);
        Poke();
    }

    /// <summary>
    /// The stop deadline expired: cancel the handlers' token and fail everything without an outcome. Runs on the loop;
    /// it is called on every pass once requested, so jobs whose add was in progress are failed as they arrive.
    /// </summary>
    private void AbandonAll(BatcherStoppedException? exception = null)
    {
        BatcherStoppedException Failure() => exception ??= new BatcherStoppedException(
            $"The stop deadline of batcher '{_name}' expired before this job had an outcome.");

        if (_hasCarry)
        {
            _hasCarry = false;
            if (FailQueued(_carry, Failure(), DeadLetterReason.Stopped))
            {
                ReleaseReservation(1, _carry.Weight);
            }

            _carry = default;
        }

        while (TryDequeue(out JobEntry<TJob> entry))
        {
            if (entry.Flush is not null)
            {
                Interlocked.Decrement(ref _flushRequests);
                RegisterFlush(entry.Flush, _lastBatchId);
            }
            else if (FailQueued(entry, Failure(), DeadLetterReason.Stopped))
            {
                ReleaseReservation(1, entry.Weight);
            }
        }

        List<DelayedRetry>? retries = null;
        lock (_retryLock)
        {
            if (_delayedRetries.Count > 0)
            {
                retries = [.. _delayedRetries];
                _delayedRetries.Clear();
            }
        }

        foreach (DelayedRetry retry in retries ?? [])
        {
            retry.Cancel();
            FailQueued(retry.Entry, Failure(), DeadLetterReason.Stopped);
            Interlocked.Decrement(ref _retryWaiting);
        }

        foreach (Batch<TJob, TResult> batch in _outstanding.ToArray())
        {
            Abandon(batch, Failure(), DeadLetterReason.Stopped);
        }

        // Only now cancel the handlers' token: a handler that honours it must not finish first and give its jobs a
        // TaskCanceledException instead of the stop exception. Asynchronously, since its callbacks are user code.
        if (!_handlerCts.IsCancellationRequested)
        {
            _ = _handlerCts.CancelAsync();
        }

        CollectFinishedBatches();
    }
}
