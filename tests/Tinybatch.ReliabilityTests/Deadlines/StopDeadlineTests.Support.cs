using Tinybatch.ReliabilityTests.Support;

namespace Tinybatch.ReliabilityTests.Deadlines;

/// <summary>The batcher, handlers and policies of the stop-deadline tests.</summary>
public sealed partial class StopDeadlineTests
{
    private int Calls => Volatile.Read(ref _calls);

    /// <summary>Gets how many handler calls have returned (or thrown), asynchronous ones included.</summary>
    private int Returns => Volatile.Read(ref _returns);

    private Batcher<int, int> Build(Func<Batch<int, int>, CancellationToken, ValueTask> handler, Action<BatcherOptions<int, int>>? configure = null)
    {
        var options = new BatcherOptions<int, int> { MaxBatchSize = 1, MaxBatchDelay = TimeSpan.Zero, TimeProvider = _time };
        configure?.Invoke(options);
        var batcher = new Batcher<int, int>(
            async (batch, ct) =>
            {
                Interlocked.Increment(ref _calls);
                try
                {
                    await handler(batch, ct);
                }
                finally
                {
                    Interlocked.Increment(ref _returns);
                }
            },
            options);
        batcher.Start();
        return batcher;
    }

    private static ValueTask Succeed(Batch<int, int> batch, CancellationToken _)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            batch.SetResult(i, batch[i] * 10);
        }

        return ValueTask.CompletedTask;
    }

    private static ValueTask FailAll(Batch<int, int> batch, CancellationToken _) => throw new InjectedFailureException();

    private static ValueTask RetryAll(Batch<int, int> batch, CancellationToken _)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            batch.Retry(i, new InjectedFailureException());
        }

        return ValueTask.CompletedTask;
    }

    private static async ValueTask RetryAllAsync(Batch<int, int> batch, CancellationToken ct)
    {
        await Task.Yield();
        await RetryAll(batch, ct);
    }

    /// <summary>The first call holds until the test ends (or, honouring its token, until the token fires); later calls succeed.</summary>
    private Func<Batch<int, int>, CancellationToken, ValueTask> HoldFirstCall(bool honourToken) => async (batch, ct) =>
    {
        if (batch[0] == 1)
        {
            await _gate.Task.WaitAsync(honourToken ? ct : CancellationToken.None);
        }

        await Succeed(batch, ct);
    };

    /// <summary>Starts a stop with a deadline, fires the deadline, and waits (guarded) for the stop to return.</summary>
    private async Task StopAtDeadlineAsync(Batcher<int, int> batcher)
    {
        using var deadline = new CancellationTokenSource();
        Task stop = batcher.StopAsync(deadline.Token);
        await deadline.CancelAsync();
        await stop.Within(_mark, "StopAsync after its deadline fired");
    }

    private async Task AssertStoppedAsync(params Task<int>[] jobs)
    {
        foreach (Task<int> job in jobs)
        {
            await Assert.ThrowsAsync<BatcherStoppedException>(() => job.Within(_mark, "a job the deadline abandoned"));
        }
    }

    /// <summary>
    /// A job whose handler call ended before the deadline but whose batch was still in a callback: its own outcome (the
    /// result, or <typeparamref name="TFailure"/>) or the deadline's BatcherStoppedException, whichever the batcher
    /// delivered first; never nothing.
    /// </summary>
    private async Task AssertEitherAsync<TFailure>(Task<int> job, int? result)
        where TFailure : Exception
    {
        await job.Settled(_mark, "a job whose batch was in a callback at the deadline");
        Assert.True(
            (result is { } r && job.IsCompletedSuccessfully && job.Result == r) || job.Exception?.InnerException is TFailure or BatcherStoppedException,
            $"the job ended {job.Status}: {job.Exception?.InnerException}");
    }

    /// <summary>After the stop: stopped, nothing pending or in flight, the counters add up, nothing escaped.</summary>
    private async Task AssertDrainedAsync(Batcher<int, int> batcher)
    {
        await batcher.Completion.Within(_mark, "Completion");
        BatcherCounters c = batcher.Counters;
        Assert.Equal(BatcherState.Stopped, batcher.State);
        Assert.True(c.Pending == 0 && c.InFlight == 0, $"jobs left pending or in flight: {c}");
        Assert.True(c.Accepted == c.Succeeded + c.Failed + c.Canceled + c.Dropped, $"the counters do not add up: {c}");
        Contained.ThrowIfEscaped(_mark, "the scenario");
    }

    /// <summary>A retry policy whose synchronous GetDelay blocks its thread until the test ends.</summary>
    private sealed class BlockingPolicy(ManualResetEventSlim release) : RetryPolicy
    {
        private int _entered;

        public bool Entered => Volatile.Read(ref _entered) != 0;

        public override TimeSpan GetDelay(int nextAttempt, Exception? reason)
        {
            Volatile.Write(ref _entered, 1);
            release.Wait();
            return TimeSpan.Zero;
        }
    }

    /// <summary>A retry policy whose asynchronous delay never comes (it honours the batcher's token, as documented).</summary>
    private sealed class SilentPolicy : RetryPolicy
    {
        public override async ValueTask<TimeSpan> GetDelayAsync(int nextAttempt, Exception? reason, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return TimeSpan.Zero;
        }
    }

    /// <summary>After a failed handler call, pauses dispatch for a day of the batcher's clock.</summary>
    private sealed class LongPause : OutageBackoff
    {
        public override ValueTask<TimeSpan> OnHandlerCompletedAsync(Exception? failure, CancellationToken cancellationToken) =>
            new(failure is null ? TimeSpan.Zero : TimeSpan.FromDays(1));
    }
}
