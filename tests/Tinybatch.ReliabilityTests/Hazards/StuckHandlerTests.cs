namespace Tinybatch.ReliabilityTests.Hazards;

/// <summary>A handler that never returns cannot hold a stop with a deadline hostage.</summary>
[Collection(ReliabilitySuite.Name)]
public sealed class StuckHandlerTests
{
    private static readonly TimeSpan Guard = HangGuard.Timeout;

    [Fact]
    public async Task StopWithDeadline_AsyncHandlerNeverReturns_ReturnsAndFailsJobsWithBatcherStopped()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource<IReadOnlyList<int>>();
        var batcher = new Batcher<int, int>(
            (jobs, _) =>
            {
                entered.TrySetResult();
                return new ValueTask<IReadOnlyList<int>>(never.Task);
            },
            new BatcherOptions<int, int> { MaxBatchSize = 2, MaxBatchDelay = Timeout.InfiniteTimeSpan, Capacity = 100 });
        batcher.Start();
        Task<int>[] inFlight = [batcher.AddAndWaitAsync(1).AsTask(), batcher.AddAndWaitAsync(2).AsTask()];
        await entered.Task.WaitAsync(Guard);
        Task<int>[] queued = [batcher.AddAndWaitAsync(3).AsTask(), batcher.AddAndWaitAsync(4).AsTask(), batcher.AddAndWaitAsync(5).AsTask()];

        using var deadline = new CancellationTokenSource();
        Task stop = batcher.StopAsync(deadline.Token);
        Assert.False(stop.IsCompleted);
        await deadline.CancelAsync();
        await stop.WaitAsync(Guard);

        foreach (Task<int> job in inFlight.Concat(queued))
        {
            await Assert.ThrowsAsync<BatcherStoppedException>(() => job.WaitAsync(Guard));
        }

        BatcherCounters counters = batcher.Counters;
        Assert.Equal(5, counters.Failed);
        Assert.Equal(0, counters.Pending);
        Assert.Equal(0, counters.InFlight);
        Assert.Equal(BatcherState.Stopped, batcher.State);
        await batcher.Completion.WaitAsync(Guard);
    }

    [Fact]
    public async Task StopWithDeadline_SyncHandlerBlocksItsThread_ReturnsAndFailsJobsWithBatcherStopped()
    {
        using var block = new ManualResetEventSlim();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batcher = new Batcher<int, int>(
            (jobs, _) =>
            {
                entered.TrySetResult();
                block.Wait(CancellationToken.None);
                return jobs.ToArray();
            },
            new BatcherOptions<int, int> { MaxBatchSize = 1, MaxBatchDelay = TimeSpan.Zero });
        batcher.Start();
        try
        {
            Task<int> job = batcher.AddAndWaitAsync(7).AsTask();
            await entered.Task.WaitAsync(Guard);
            using var deadline = new CancellationTokenSource();
            await deadline.CancelAsync();

            await batcher.StopAsync(deadline.Token).WaitAsync(Guard);

            BatcherStoppedException ex = await Assert.ThrowsAsync<BatcherStoppedException>(() => job.WaitAsync(Guard));
            Assert.Contains("deadline", ex.Message, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(1, batcher.Counters.Failed);
        }
        finally
        {
            // Gives the blocked thread-pool thread back; its late result must be ignored.
            block.Set();
        }

        await Task.Delay(50);
        Assert.Equal(0, batcher.Counters.Succeeded);
        Assert.Equal(1, batcher.Counters.Failed);
    }

    [Fact]
    public async Task StopWithDeadline_HandlerIgnoresToken_LateResultIsIgnoredAndBatcherStaysStopped()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var completedBatches = 0;
        var batcher = new Batcher<int, int>(
            async (Batch<int, int> batch, CancellationToken _) =>
            {
                entered.TrySetResult();
                await release.Task;
                batch.SetResults(batch.ToArray());
            },
            new BatcherOptions<int, int>
            {
                MaxBatchSize = 1,
                MaxBatchDelay = TimeSpan.Zero,
                OnBatchCompleted = _ => Interlocked.Increment(ref completedBatches),
            });
        batcher.Start();
        Task<int> job = batcher.AddAndWaitAsync(1).AsTask();
        await entered.Task.WaitAsync(Guard);
        using var deadline = new CancellationTokenSource();
        Task stop = batcher.StopAsync(deadline.Token);
        await deadline.CancelAsync();
        await stop.WaitAsync(Guard);
        await Assert.ThrowsAsync<BatcherStoppedException>(() => job.WaitAsync(Guard));

        release.SetResult();
        await batcher.StopAsync().WaitAsync(Guard);

        Assert.Equal(1, Volatile.Read(ref completedBatches));
        Assert.Equal(0, batcher.Counters.Succeeded);
        Assert.Equal(1, batcher.Counters.Failed);
    }

    [Fact]
    public async Task StopWithDeadline_HandlerHonoursToken_JobsFailWithBatcherStopped()
    {
        // The documented contract: when the deadline fires, every job in flight fails with BatcherStoppedException.
        // The handler here returns as soon as its token is cancelled; the dead-letter callback of a queued job (which
        // the abandon runs before it abandons the in-flight batch) waits for that, so the race is decided the same way
        // on every run.
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handlerReturned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batcher = new Batcher<int, int>(
            async (Batch<int, int> batch, CancellationToken token) =>
            {
                entered.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, token);
                }
                finally
                {
                    handlerReturned.TrySetResult();
                }
            },
            new BatcherOptions<int, int>
            {
                MaxBatchSize = 1,
                MaxBatchDelay = TimeSpan.Zero,
                OnDeadLetter = d =>
                {
                    if (d.Job == 2)
                    {
                        handlerReturned.Task.Wait(TimeSpan.FromSeconds(5));
                    }
                },
            });
        batcher.Start();
        Task<int> inFlight = batcher.AddAndWaitAsync(1).AsTask();
        await entered.Task.WaitAsync(Guard);
        using var deadline = new CancellationTokenSource();
        await deadline.CancelAsync();

        // Job 2 stays queued: the only slot is taken, and the stop begins with an expired deadline.
        batcher.TryAdd(2);
        await batcher.StopAsync(deadline.Token).WaitAsync(Guard);

        Exception failure = await Assert.ThrowsAnyAsync<Exception>(() => inFlight.WaitAsync(Guard));
        Assert.IsType<BatcherStoppedException>(failure);
    }
}
