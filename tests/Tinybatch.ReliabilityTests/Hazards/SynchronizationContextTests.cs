namespace Tinybatch.ReliabilityTests.Hazards;

/// <summary>Calls from a single-threaded SynchronizationContext (UI-like) never deadlock.</summary>
[Collection(ReliabilitySuite.Name)]
public sealed class SynchronizationContextTests
{
    private static readonly TimeSpan Guard = HangGuard.Timeout;

    private static Batcher<int, int> Doubler(int maxBatchSize = 4) => new(
        (jobs, _) => jobs.Select(j => j * 2).ToArray(),
        new BatcherOptions<int, int> { MaxBatchSize = maxBatchSize, MaxBatchDelay = Timeout.InfiniteTimeSpan });

    [Fact]
    public async Task AddAndWaitFlushStop_AwaitedOnSingleThreadedContext_CompleteOnTheContext()
    {
        using var context = new SingleThreadedContext();
        await using Batcher<int, int> batcher = Doubler();
        batcher.Start();

        (int[] results, bool stillOnContext) = await context.RunAsync(async () =>
        {
            Task<int>[] waits = Enumerable.Range(1, 6).Select(i => batcher.AddAndWaitAsync(i).AsTask()).ToArray();
            await batcher.FlushAsync();
            int[] all = await Task.WhenAll(waits);
            await batcher.StopAsync();
            return (all, Environment.CurrentManagedThreadId == context.ThreadId);
        }).WaitAsync(Guard);

        Assert.Equal([2, 4, 6, 8, 10, 12], results);
        Assert.True(stillOnContext, "awaits in the caller's code resume on the caller's context");
        Assert.Equal(BatcherState.Stopped, batcher.State);
    }

    /// <summary>
    /// Awaited directly (not through AsTask), the job's completion itself captures the context: plain awaits resume on
    /// it, ConfigureAwait(false) resumes on the thread pool.
    /// </summary>
    [Fact]
    public async Task AddAndWait_AwaitedDirectlyOnContext_ResumesOnTheContextUnlessConfiguredNotTo()
    {
        using var context = new SingleThreadedContext();

        // Job 4's handler call waits for the gate, so its request is surely pending when its continuation is registered:
        // an await of a completed task continues where it is, which would show nothing about ConfigureAwait(false).
        using var gate = new ManualResetEventSlim();
        await using var batcher = new Batcher<int, int>(
            (jobs, ct) =>
            {
                if (jobs.Contains(4))
                {
                    gate.Wait(Guard, ct);
                }

                return jobs.Select(j => j * 2).ToArray();
            },
            new BatcherOptions<int, int> { MaxBatchSize = 1, MaxBatchDelay = Timeout.InfiniteTimeSpan });
        batcher.Start();

        (int captured, bool onContext, bool wasPending, (bool OnContextThread, bool HasContext, int Value) resumed) = await context.RunAsync(async () =>
        {
            int first = await batcher.AddAndWaitAsync(3);
            bool backOnContext = Environment.CurrentManagedThreadId == context.ThreadId
                && SynchronizationContext.Current == context;

            ValueTask<int> pending = batcher.AddAndWaitAsync(4);
            bool notDone = !pending.IsCompleted;
            var where = new TaskCompletionSource<(bool, bool, int)>(TaskCreationOptions.RunContinuationsAsynchronously);
            var awaiter = pending.ConfigureAwait(false).GetAwaiter();
            awaiter.OnCompleted(() => where.SetResult((
                Environment.CurrentManagedThreadId == context.ThreadId, SynchronizationContext.Current is not null, awaiter.GetResult())));
            gate.Set();
            return (first, backOnContext, notDone, await where.Task);
        }).WaitAsync(Guard);

        Assert.Equal(6, captured);
        Assert.True(onContext, "a plain await resumes on the caller's context");
        Assert.True(wasPending, "job 4 cannot be done before its handler call passes the gate");
        Assert.Equal(8, resumed.Value);
        Assert.False(resumed.OnContextThread, "ConfigureAwait(false) resumes off the context's thread");
        Assert.False(resumed.HasContext, "ConfigureAwait(false) resumes without the context");
    }

    [Fact]
    public async Task BlockingWaits_OnSingleThreadedContextThread_DoNotDeadlock()
    {
        using var context = new SingleThreadedContext();
        await using Batcher<int, int> batcher = Doubler(maxBatchSize: 1);
        batcher.Start();

        int result = await context.RunAsync(() =>
        {
            // Sync-over-async on the only thread of the context: deadlocks if the batcher needs this thread to finish.
            int value = batcher.AddAndWaitAsync(21).AsTask().GetAwaiter().GetResult();
            batcher.TryAdd(5);
            batcher.FlushAsync().GetAwaiter().GetResult();
            batcher.StopAsync().GetAwaiter().GetResult();
            return Task.FromResult(value);
        }).WaitAsync(Guard);

        Assert.Equal(42, result);
        Assert.Equal(2, batcher.Counters.Succeeded);
    }

    [Fact]
    public async Task DisposeAsync_BlockedOnContextThreadWithJobsPending_DoesNotDeadlock()
    {
        using var context = new SingleThreadedContext();
        Batcher<int, int> batcher = Doubler(maxBatchSize: 100);
        batcher.Start();

        long succeeded = await context.RunAsync(() =>
        {
            for (int i = 0; i < 10; i++)
            {
                batcher.TryAdd(i);
            }

            batcher.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return Task.FromResult(batcher.Counters.Succeeded);
        }).WaitAsync(Guard);

        Assert.Equal(10, succeeded);
    }

    [Fact]
    public async Task StopWithDeadline_BlockedOnContextThreadWithJobsPending_DoesNotDeadlock()
    {
        using var context = new SingleThreadedContext();
        Batcher<int, int> batcher = Doubler(maxBatchSize: 100);
        batcher.Start();
        using var deadline = new CancellationTokenSource();

        long succeeded = await context.RunAsync(() =>
        {
            for (int i = 0; i < 10; i++)
            {
                batcher.TryAdd(i);
            }

            // A deadline that can fire takes its own await inside the batcher; it must not need this thread to resume.
            batcher.StopAsync(deadline.Token).GetAwaiter().GetResult();
            return Task.FromResult(batcher.Counters.Succeeded);
        }).WaitAsync(Guard);

        Assert.Equal(10, succeeded);
        Assert.Equal(BatcherState.Stopped, batcher.State);
    }
    /// <summary>
    /// An add that finds the buffer full waits for space inside the batcher. Blocked on with sync-over-async on the only
    /// thread of a context, none of its continuations may need that thread, or it never returns.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BlockingAdd_BufferFullOnContextThread_DoesNotDeadlock(bool awaitResult)
    {
        using var context = new SingleThreadedContext();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var batcher = new Batcher<int, int>(
            async (batch, _) =>
            {
                entered.TrySetResult();
                await release.Task.ConfigureAwait(false);
                for (int i = 0; i < batch.Count; i++)
                {
                    batch.SetResult(i, batch[i] * 2);
                }
            },
            new BatcherOptions<int, int> { MaxBatchSize = 1, Capacity = 2, MaxBatchDelay = Timeout.InfiniteTimeSpan });
        batcher.Start();

        // A job holds its place until its outcome: job 0 in the handler and job 1 queued fill the two places.
        Assert.True(batcher.TryAdd(0));
        await entered.Task.WaitAsync(Guard);
        Assert.True(batcher.TryAdd(1));
        Assert.False(batcher.TryAdd(9));

        try
        {
            Task<int> blocked = context.RunAsync(() =>
            {
                int value = awaitResult
                    ? batcher.AddAndWaitAsync(2).AsTask().GetAwaiter().GetResult()
                    : AddThenReturn(batcher, 2);
                return Task.FromResult(value);
            });
            await WaitForSpaceWaiterAsync(batcher);
            release.SetResult();

            Assert.Equal(awaitResult ? 4 : -1, await blocked.WaitAsync(Guard));
            await batcher.StopAsync().WaitAsync(Guard);
            Assert.Equal((3, 3), (batcher.Counters.Accepted, batcher.Counters.Succeeded));
        }
        finally
        {
            // Whatever failed above, the held handler must not hold the batcher's disposal forever.
            release.TrySetResult();
        }
    }

    private static int AddThenReturn(Batcher<int, int> batcher, int job)
    {
        batcher.AddAsync(job).AsTask().GetAwaiter().GetResult();
        return -1;
    }

    /// <summary>Waits until an add is parked waiting for space (the batcher's internal count of such waiters).</summary>
    private static async Task WaitForSpaceWaiterAsync(Batcher<int, int> batcher)
    {
        var guard = System.Diagnostics.Stopwatch.StartNew();
        while (batcher.SpaceWaiterCount == 0)
        {
            Assert.True(guard.Elapsed < Guard, "No add ever waited for space.");
            await Task.Yield();
        }
    }
}
