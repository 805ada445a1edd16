using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>MaxBatchWeight with a Weigher: a hard cap on every dispatched batch.</summary>
public class WeightTests
{
    private const long Cap = 10;

    private static BatcherOptions<int, int> Weighted(TimeSpan? delay = null) => new()
    {
        MaxBatchSize = 100,
        MaxBatchWeight = Cap,
        Weigher = job => job,
        MaxBatchDelay = delay ?? Timeout.InfiniteTimeSpan,
        TimeProvider = new FakeTimeProvider(),
    };

    public static TheoryData<string> AddKinds => new() { "TryAdd", "AddAsync", "AddAndWaitAsync" };

    [Fact]
    public async Task Add_JobEqualToTheCap_IsAcceptedAndGoesAlone()
    {
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(recorder.Echo, Weighted());
        batcher.Start();

        batcher.TryAdd(3);
        Assert.Equal(10, await batcher.AddAndWaitAsync(10).Guarded());
        await batcher.FlushAsync().Guarded();

        Assert.Equal([[3], [10]], recorder.Batches);
    }

    [Fact]
    public async Task Add_JobReachingTheCapExactly_DispatchesTheFullBatchAtOnce()
    {
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(recorder.Echo, Weighted());
        batcher.Start();

        batcher.TryAdd(4);
        batcher.TryAdd(6);
        await batcher.IdleAsync();

        Assert.Equal([4, 6], Assert.Single(recorder.Batches));
    }

    [Theory]
    [MemberData(nameof(AddKinds))]
    public async Task Add_JobOverTheCap_IsRefusedWithJobTooHeavyAndCountedRejected(string kind)
    {
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, Weighted());
        batcher.Start();

        var error = await Assert.ThrowsAsync<JobTooHeavyException>(async () =>
        {
            switch (kind)
            {
                case "TryAdd":
                    batcher.TryAdd(11);
                    break;
                case "AddAsync":
                    await batcher.AddAsync(11);
                    break;
                default:
                    await batcher.AddAndWaitAsync(11);
                    break;
            }
        });

        Assert.Equal(11, error.Weight);
        Assert.Equal(Cap, error.MaxBatchWeight);
        Assert.Contains("11", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, batcher.Counters.Rejected);
        Assert.Equal(0, batcher.Counters.Accepted);
    }

    [Fact]
    public async Task Dispatch_NextJobWouldCrossTheCap_BatchIsCutBeforeIt()
    {
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(recorder.Echo, Weighted());
        batcher.Start();

        batcher.TryAdd(4);
        batcher.TryAdd(4);
        batcher.TryAdd(4);
        await batcher.IdleAsync();
        Assert.Equal([4, 4], Assert.Single(recorder.Batches));

        await batcher.FlushAsync().Guarded();
        Assert.Equal([[4, 4], [4]], recorder.Batches);
    }

    [Fact]
    public async Task Dispatch_ManyRandomWeights_NoBatchEverExceedsTheCap()
    {
        var weights = new List<long>();
        var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                lock (weights)
                {
                    weights.Add(batch.TotalWeight);
                }

                Assert.Equal(batch.Sum(j => (long)j), batch.TotalWeight);
                batch.SetResults(batch.ToArray());
                return default;
            },
            Weighted(TimeSpan.Zero));
        batcher.Start();
        var random = new Random(1234);
        long total = 0;

        for (int i = 0; i < 2_000; i++)
        {
            int job = random.Next(0, (int)Cap + 1);
            total += job;
            await batcher.AddAsync(job);
        }

        await batcher.StopAsync().Guarded();

        Assert.All(weights, w => Assert.InRange(w, 0, Cap));
        Assert.Equal(total, weights.Sum());
        Assert.Equal(2_000, batcher.Counters.Succeeded);
    }

    [Fact]
    public async Task Add_WeigherReturnsNegative_IsRefusedAndCounted()
    {
        var options = Weighted();
        options.Weigher = _ => -1;
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, options);

        Assert.ThrowsAny<ArgumentException>(() => batcher.TryAdd(1));
        Assert.Equal(1, batcher.Counters.Rejected);
    }

    [Fact]
    public async Task Add_AfterStopEvenATooHeavyJob_ThrowsBatcherStopped()
    {
        var batcher = new Batcher<int, int>((jobs, ct) => jobs, Weighted());
        await batcher.StopAsync().Guarded();

        var error = await Record.ExceptionAsync(() => batcher.AddAsync(11).AsTask());

        Assert.True(
            error is BatcherStoppedException,
            $"Contract point 3: every waiting add after stop throws BatcherStoppedException; a too-heavy job got {error?.GetType().Name}.");
        Assert.False(batcher.TryAdd(11));
    }

    /// <summary>
    /// DropOldest hands the evicted job's place to the new one, and its weight too: the pending weight loses the evicted
    /// job's weight and gains the new job's. A wrong exchange would outlive the jobs, so the test empties the queue and
    /// then adds a probe: it is dispatched at once only if it reaches the cap by itself. Jobs are added before Start so
    /// that all of them are in the queue, where eviction happens (a full buffer is also a full batch by count).
    /// </summary>
    [Theory]
    [InlineData(new[] { 1, 1, 1, 8 }, 10, true)]
    [InlineData(new[] { 4, 4, 4, 1 }, 2, false)]
    public async Task DropOldest_EvictionForAJobOfAnotherWeight_PendingWeightFollows(int[] jobs, int probe, bool probeGoesAtOnce)
    {
        var recorder = new Recorder<int>();
        var options = Weighted();
        options.MaxBatchSize = 3;
        options.Capacity = 3;
        options.OverflowPolicy = OverflowPolicy.DropOldest;
        await using var batcher = new Batcher<int, int>(recorder.Echo, options);
        foreach (int job in jobs)
        {
            Assert.True(batcher.TryAdd(job));
        }

        batcher.Start();
        await batcher.IdleAsync();
        Assert.Equal(jobs[1..], Assert.Single(recorder.Batches));
        Assert.Equal(1, batcher.Counters.Dropped);

        Assert.True(batcher.TryAdd(probe));
        await batcher.IdleAsync();
        Assert.True(
            probeGoesAtOnce == (recorder.Batches.Count == 2),
            $"with nothing else pending, the probe of weight {probe} against a cap of {Cap} went at once: {recorder.Batches.Count == 2}");
        await batcher.FlushAsync().Guarded();
        Assert.Equal([probe], recorder.Batches[1]);
    }
}
