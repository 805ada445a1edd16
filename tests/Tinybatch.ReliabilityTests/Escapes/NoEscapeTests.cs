using Tinybatch.ReliabilityTests.Support;

namespace Tinybatch.ReliabilityTests.Escapes;

/// <summary>
/// Nothing the library schedules may throw into the thread pool or kill the dispatch loop. These are the direct
/// reproductions, on the system clock as a user meets them: each scenario must run with no exception escaping (the
/// monitor contains what escapes, so a process abort fails the test instead of the test host), a live loop (later adds
/// are accepted), and every job with its outcome.
/// </summary>
[Collection(ReliabilitySuite.Name)]
public sealed class NoEscapeTests
{
    // A day above the timer's limit: with the system clock the loop subtracts the time already waited (and rounds up to
    // whole milliseconds), so a value just 1 ms above the limit is below it once a millisecond has passed.
    private static readonly TimeSpan AboveTimerLimit = TimeSpan.FromMilliseconds(uint.MaxValue - 1) + TimeSpan.FromDays(1);

    private static Func<IReadOnlyList<int>, CancellationToken, ValueTask<IReadOnlyList<int>>> Echo =>
        (jobs, _) => new ValueTask<IReadOnlyList<int>>([.. jobs.Select(j => j * 10)]);

    /// <summary>Today: the handler-timeout timer throws inside the thread-pool work item that runs the batch (process abort).</summary>
    [Theory]
    [MemberData(nameof(HugeDurations))]
    public async Task HandlerTimeout_AboveTheTimerLimit_BatchesRunWithoutAbortingTheProcess(TimeSpan timeout)
    {
        int mark = Contained.Mark();
        var batcher = new Batcher<int, int>(Echo, new BatcherOptions<int, int> { MaxBatchDelay = TimeSpan.Zero, HandlerTimeout = timeout });
        batcher.Start();

        Assert.Equal(10, await batcher.AddAndWaitAsync(1).Within(mark, "the first job"));
        Assert.Equal(20, await batcher.AddAndWaitAsync(2).Within(mark, "a second job"));
        await batcher.StopAsync().Within(mark, "the stop");
        Contained.ThrowIfEscaped(mark, "the scenario");
    }

    /// <summary>Today: the retry timer throws inside the batch's work item when the handler completed synchronously (process abort).</summary>
    [Theory]
    [MemberData(nameof(HugeDurations))]
    public async Task RetryDelay_AboveTheTimerLimitWithSynchronousHandler_JobWaitsAndAStopDeadlineCutsItShort(TimeSpan delay)
    {
        int mark = Contained.Mark();
        int calls = 0;
        var batcher = new Batcher<int, int>(
            (IReadOnlyList<int> jobs, CancellationToken _) => Interlocked.Increment(ref calls) == 1
                ? throw new InjectedFailureException()
                : [.. jobs.Select(j => j * 10)],
            new BatcherOptions<int, int>
            {
                MaxBatchDelay = TimeSpan.Zero,
                Retry = new RetryPolicy { RetryFailedBatches = true, Delay = delay },
            });
        batcher.Start();

        Task<int> waiting = batcher.AddAndWaitAsync(1).AsTask();
        await Contained.Until(() => Volatile.Read(ref calls) == 1, mark, "the first attempt");
        await batcher.WhenIdleAsync().IdleUnlessFailed(waiting, mark, "the loop with the job waiting for its retry");
        Assert.False(waiting.IsCompleted, "the job waiting for its retry already has an outcome");
        Assert.Equal(BatcherState.Running, batcher.State);
        Assert.Equal(20, await batcher.AddAndWaitAsync(2).Within(mark, "a job added while the first waits"));

        using var deadline = new CancellationTokenSource();
        await deadline.CancelAsync();
        await batcher.StopAsync(deadline.Token).Within(mark, "a stop whose deadline has passed");
        await Assert.ThrowsAsync<BatcherStoppedException>(() => waiting.Within(mark, "the waiting job"));
        Contained.ThrowIfEscaped(mark, "the scenario");
    }

    /// <summary>Today: arming the delay timer kills the loop at the first add; every later add says the batcher is stopped.</summary>
    [Theory]
    [MemberData(nameof(HugeDurations))]
    public async Task MaxBatchDelay_AboveTheTimerLimit_LaterAddsAreAcceptedAndAFlushSendsThem(TimeSpan delay)
    {
        int mark = Contained.Mark();
        var batcher = new Batcher<int, int>(Echo, new BatcherOptions<int, int> { MaxBatchDelay = delay });
        batcher.Start();

        Task<int> first = batcher.AddAndWaitAsync(1).AsTask();
        await batcher.WhenIdleAsync().IdleUnlessFailed(first, mark, "the loop after the first add");
        Assert.False(first.IsCompleted, $"the first job has an outcome before its delay: {first.Exception?.InnerException?.Message}");
        Task<int> second = batcher.AddAndWaitAsync(2).AsTask();
        Assert.True(batcher.TryAdd(3), "a later TryAdd was refused");
        await batcher.FlushAsync().Within(mark, "the flush");

        Assert.Equal(10, await first.Within(mark, "the first job"));
        Assert.Equal(20, await second.Within(mark, "the second job"));
        await batcher.StopAsync().Within(mark, "the stop");
        Assert.Equal(3, batcher.Counters.Succeeded);
        Contained.ThrowIfEscaped(mark, "the scenario");
    }

    /// <summary>Today: the loader's batcher loop dies at the first load; every later load fails as stopped.</summary>
    [Theory]
    [MemberData(nameof(HugeDurations))]
    public async Task DataLoader_MaxBatchDelayAboveTheTimerLimit_LaterLoadsWorkAndDisposeFetchesThem(TimeSpan delay)
    {
        int mark = Contained.Mark();
        var loader = new DataLoader<int, int>(
            (keys, _) => new ValueTask<IReadOnlyList<int>>([.. keys.Select(k => k * 10)]),
            new DataLoaderOptions<int> { MaxBatchDelay = delay });

        Task<int> first = loader.LoadAsync(1);
        await LoaderHooks.WhenIdleAsync(loader).IdleUnlessFailed(first, mark, "the loader after the first load");
        Assert.False(first.IsCompleted, $"the first load has an outcome before its delay: {first.Exception?.InnerException?.Message}");
        Task<int> second = loader.LoadAsync(2);
        await loader.DisposeAsync().Within(mark, "the dispose, which fetches what is pending");

        Assert.Equal(10, await first.Within(mark, "the first load"));
        Assert.Equal(20, await second.Within(mark, "the second load"));
        Contained.ThrowIfEscaped(mark, "the scenario");
    }

    /// <summary>Today: the first dispatch allocates a batch of int.MaxValue slots: "Array dimensions exceeded", the loop dies.</summary>
    [Fact]
    public async Task MaxBatchSizeAndCapacity_IntMaxValue_LoopLivesAndLaterAddsWork()
    {
        int mark = Contained.Mark();
        var batcher = new Batcher<int, int>(
            Echo,
            new BatcherOptions<int, int> { MaxBatchSize = int.MaxValue, Capacity = int.MaxValue, MaxBatchDelay = TimeSpan.Zero });
        batcher.Start();

        Assert.Equal(10, await batcher.AddAndWaitAsync(1).Within(mark, "the first job"));
        Assert.Equal(20, await batcher.AddAndWaitAsync(2).Within(mark, "a second job"));
        await batcher.StopAsync().Within(mark, "the stop");
        Contained.ThrowIfEscaped(mark, "the scenario");
    }

    public static TheoryData<TimeSpan> HugeDurations => new() { AboveTimerLimit, TimeSpan.MaxValue };
}
