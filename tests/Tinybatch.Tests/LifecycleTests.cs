using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>Contract point 3: Start, buffering before Start, adds after stop, the lifetime token.</summary>
public class LifecycleTests
{
    private static BatcherOptions<int, int> SizeOnly(int size = 10, int capacity = 10_000) =>
        new() { MaxBatchSize = size, Capacity = capacity, MaxBatchDelay = Timeout.InfiniteTimeSpan, TimeProvider = new FakeTimeProvider() };

    public static TheoryData<string> AddKinds => new() { "TryAdd", "AddAsync", "AddAndWaitAsync" };

    private static async Task AddAsync(Batcher<int, int> batcher, string kind, int job)
    {
        switch (kind)
        {
            case "TryAdd":
                batcher.TryAdd(job);
                break;
            case "AddAsync":
                await batcher.AddAsync(job);
                break;
            default:
                await batcher.AddAndWaitAsync(job);
                break;
        }
    }

    /// <summary>After a stop, TryAdd returns false (as ChannelWriter.TryWrite does); the waiting adds throw.</summary>
    private static async Task AssertRefusedAsync(Batcher<int, int> batcher, string kind, int job)
    {
        long rejected = batcher.Counters.Rejected;
        if (kind == "TryAdd")
        {
            Assert.False(batcher.TryAdd(job));
        }
        else
        {
            await Assert.ThrowsAsync<BatcherStoppedException>(() => AddAsync(batcher, kind, job));
        }

        Assert.Equal(rejected + 1, batcher.Counters.Rejected);
    }

    [Fact]
    public async Task Start_CalledTwice_IsIdempotent()
    {
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(recorder.Echo, SizeOnly(2));

        batcher.Start();
        batcher.Start();
        batcher.TryAdd(1);
        batcher.TryAdd(2);
        await batcher.IdleAsync();
        batcher.Start();
        await batcher.IdleAsync();

        Assert.Equal(BatcherState.Running, batcher.State);
        Assert.Equal([1, 2], Assert.Single(recorder.Batches));
        Assert.Equal(1, batcher.Counters.Batches);
    }

    [Fact]
    public async Task Add_BeforeStart_IsBufferedWithoutBlockingAndFlowsOnStart()
    {
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(recorder.Echo, SizeOnly(10));

        Assert.True(batcher.TryAdd(1));
        Task added = batcher.AddAsync(2).AsTask();
        Assert.True(added.IsCompletedSuccessfully, "AddAsync before Start must complete at once (the job is buffered).");
        await added;
        Task<int> awaited = batcher.AddAndWaitAsync(3).AsTask();

        Assert.Equal(BatcherState.Created, batcher.State);
        Assert.Equal(3, batcher.PendingCount);
        Assert.Equal(0, batcher.Counters.Batches);
        Assert.False(awaited.IsCompleted);

        batcher.Start();
        await batcher.FlushAsync().Guarded();

        Assert.Equal(3, await awaited.Guarded());
        Assert.Equal([1, 2, 3], Assert.Single(recorder.Batches));
    }

    [Theory]
    [MemberData(nameof(AddKinds))]
    public async Task Add_AfterStop_ThrowsBatcherStoppedEveryTime(string kind)
    {
        var batcher = new Batcher<int, int>((jobs, ct) => jobs, SizeOnly());
        batcher.Start();
        await batcher.StopAsync().Guarded();

        for (int attempt = 0; attempt < 3; attempt++)
        {
            await AssertRefusedAsync(batcher, kind, attempt);
        }

        Assert.Equal(0, batcher.Counters.Accepted);
        Assert.Equal(BatcherState.Stopped, batcher.State);
    }

    [Theory]
    [MemberData(nameof(AddKinds))]
    public async Task Add_AfterLifetimeCancelled_ThrowsBatcherStoppedAtOnceEveryTime(string kind)
    {
        using var lifetime = new CancellationTokenSource();
        var gate = new HandlerGate();
        await using var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                await gate.PassAsync();
                return jobs;
            },
            SizeOnly(1),
            lifetime.Token);
        batcher.Start();

        // A batch in flight keeps the batcher from finishing its stop: the refusal must not wait for the drain.
        batcher.TryAdd(1);
        await gate.WhenEnteredAsync(1);
        lifetime.Cancel();

        for (int attempt = 0; attempt < 3; attempt++)
        {
            await AssertRefusedAsync(batcher, kind, attempt);
        }

        Assert.Equal(BatcherState.Stopping, batcher.State);
        gate.Open();
        await batcher.Completion.Guarded();
        Assert.Equal(1, batcher.Counters.Succeeded);
    }

    [Theory]
    [MemberData(nameof(AddKinds))]
    public async Task Ctor_LifetimeAlreadyCancelled_IsAllowedAndEveryAddThrows(string kind)
    {
        var batcher = new Batcher<int, int>((jobs, ct) => jobs, SizeOnly(), new CancellationToken(canceled: true));

        for (int attempt = 0; attempt < 3; attempt++)
        {
            await AssertRefusedAsync(batcher, kind, attempt);
        }

        batcher.Start();
        await batcher.Completion.Guarded();
        Assert.Equal(0, batcher.Counters.Accepted);
    }

    [Fact]
    public async Task LifetimeCancelled_StopsIntakeAndDrainsAcceptedJobs()
    {
        using var lifetime = new CancellationTokenSource();
        var recorder = new Recorder<int>();
        var batcher = new Batcher<int, int>(recorder.Echo, SizeOnly(10), lifetime.Token);
        batcher.Start();
        Task<int> awaited = batcher.AddAndWaitAsync(1).AsTask();
        batcher.TryAdd(2);
        await batcher.IdleAsync();
        Assert.Equal(0, recorder.BatchCount);

        lifetime.Cancel();
        await batcher.Completion.Guarded();

        Assert.Equal(1, await awaited.Guarded());
        Assert.Equal([1, 2], Assert.Single(recorder.Batches));
        Assert.Equal(BatcherState.Stopped, batcher.State);
    }

    [Fact]
    public async Task LifetimeCancelled_BeforeStart_DrainsBufferedJobs()
    {
        using var lifetime = new CancellationTokenSource();
        var recorder = new Recorder<int>();
        var batcher = new Batcher<int, int>(recorder.Echo, SizeOnly(10), lifetime.Token);
        batcher.TryAdd(1);
        batcher.TryAdd(2);

        lifetime.Cancel();
        await batcher.Completion.Guarded();

        Assert.Equal([1, 2], Assert.Single(recorder.Batches));
    }

    [Fact]
    public async Task State_FollowsCreatedRunningStoppingStopped()
    {
        var gate = new HandlerGate();
        var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                await gate.PassAsync();
                return jobs;
            },
            SizeOnly(1));
        Assert.Equal(BatcherState.Created, batcher.State);

        batcher.Start();
        Assert.Equal(BatcherState.Running, batcher.State);

        batcher.TryAdd(1);
        await gate.WhenEnteredAsync(1);
        Task stop = batcher.StopAsync();
        Assert.Equal(BatcherState.Stopping, batcher.State);
        Assert.False(stop.IsCompleted);

        gate.Open();
        await stop.Guarded();
        Assert.Equal(BatcherState.Stopped, batcher.State);
        Assert.True(batcher.Completion.IsCompletedSuccessfully);
    }
}
