using System.Numerics;
using Microsoft.Extensions.Time.Testing;
using Tinybatch.ReliabilityTests.Support;
using Xunit.Abstractions;

namespace Tinybatch.ReliabilityTests.Boundaries;

/// <summary>
/// Size options are limits, not sizes: nothing is allocated up front in proportion to them, and weight sums cannot wrap
/// around. Allocation is read process-wide (<see cref="GC.GetTotalAllocatedBytes"/>, precise) around the construction
/// and one job; the suite runs its tests one at a time, so the window holds little else. The bound, 10 MB, is far
/// below what a buffer sized by the option costs (the 2,000,000 case is 120 MB today) and far above a batcher's own
/// footprint (a few KB).
/// </summary>
[Collection(ReliabilitySuite.Name)]
public sealed class SizeOptionTests(ITestOutputHelper output)
{
    private const long Bound = 10 * 1024 * 1024;

    [Theory]
    [InlineData(int.MaxValue, int.MaxValue, 1)]
    [InlineData(2_000_000, 2_000_000, 1)]
    [InlineData(100, 10_000, int.MaxValue)]
    [InlineData(100, 10_000, 10_000_000)]
    [InlineData(100, 10_000, int.MaxValue - 3)]
    public async Task SizeOptions_Huge_ConstructAndProcessAJobInLittleMemory(int maxBatchSize, int capacity, int maxConcurrentBatches)
    {
        int mark = Contained.Mark();
        var time = new FakeTimeProvider();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var batcher = new Batcher<int, int>(
            (jobs, _) => new ValueTask<IReadOnlyList<int>>([.. jobs.Select(j => j * 10)]),
            new BatcherOptions<int, int>
            {
                MaxBatchSize = maxBatchSize,
                Capacity = capacity,
                MaxConcurrentBatches = maxConcurrentBatches,
                MaxBatchDelay = TimeSpan.Zero,
                TimeProvider = time,
            });
        long construction = GC.GetTotalAllocatedBytes(precise: true) - before;
        batcher.Start();
        int result = await batcher.AddAndWaitAsync(7).Within(mark, "the only job");
        Assert.True(batcher.TryAdd(8), "a second add was refused after the first job");
        await batcher.StopAsync().Within(mark, "the stop");
        long total = GC.GetTotalAllocatedBytes(precise: true) - before;

        string line = $"memory (MaxBatchSize={maxBatchSize}, Capacity={capacity}, MaxConcurrentBatches={maxConcurrentBatches}): "
            + $"construction {construction / 1024} KiB, construction + 2 jobs + stop {total / 1024} KiB";
        output.WriteLine(line);
        SuiteFigures.Record(line);
        Assert.Equal(70, result);
        Assert.True(total < Bound, line);
        Contained.ThrowIfEscaped(mark, "the scenario");
    }

    [Fact]
    public async Task DataLoader_MaxBatchSizeIntMaxValue_LoadsAKeyInLittleMemory()
    {
        int mark = Contained.Mark();
        var time = new FakeTimeProvider();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var loader = new DataLoader<int, int>(
            (keys, _) => new ValueTask<IReadOnlyList<int>>([.. keys.Select(k => k * 10)]),
            new DataLoaderOptions<int> { MaxBatchSize = int.MaxValue, MaxBatchDelay = TimeSpan.Zero, TimeProvider = time });
        int value = await loader.LoadAsync(7).Within(mark, "the load");
        await loader.DisposeAsync().Within(mark, "the dispose");
        long total = GC.GetTotalAllocatedBytes(precise: true) - before;

        string line = $"memory (DataLoader MaxBatchSize=int.MaxValue): construction + 1 load + dispose {total / 1024} KiB";
        output.WriteLine(line);
        SuiteFigures.Record(line);
        Assert.Equal(70, value);
        Assert.True(total < Bound, line);
    }

    /// <summary>
    /// Three jobs of weight 2^62 under the default caps (long.MaxValue): two of them already sum past long.MaxValue. No
    /// batch may wrap to a negative TotalWeight or hold more than the cap, and every job the batcher accepted succeeds.
    /// </summary>
    [Theory]
    [InlineData(OverflowPolicy.Wait)]
    [InlineData(OverflowPolicy.DropOldest)]
    public async Task Weights_ThreeJobsOfTwoToThe62_NoBatchWrapsOrExceedsTheCap(OverflowPolicy policy)
    {
        int mark = Contained.Mark();
        const long Heavy = 1L << 62;
        var batches = new List<(long TotalWeight, BigInteger TrueWeight, int Count)>();
        var batcher = new Batcher<int, int>(
            (Batch<int, int> batch, CancellationToken _) =>
            {
                lock (batches)
                {
                    batches.Add((batch.TotalWeight, batch.Count * new BigInteger(Heavy), batch.Count));
                }

                for (int i = 0; i < batch.Count; i++)
                {
                    batch.SetResult(i, batch[i]);
                }

                return ValueTask.CompletedTask;
            },
            new BatcherOptions<int, int>
            {
                MaxBatchDelay = Timeout.InfiniteTimeSpan,
                OverflowPolicy = policy,
                Weigher = _ => Heavy,
                TimeProvider = new FakeTimeProvider(),
            });

        // Added before Start, so that the buffer is where the sums meet.
        int accepted = 0;
        for (int job = 1; job <= 3; job++)
        {
            accepted += batcher.TryAdd(job) ? 1 : 0;
        }

        batcher.Start();
        await batcher.FlushAsync().Within(mark, "the flush");
        await batcher.StopAsync().Within(mark, "the stop");

        BatcherCounters c = batcher.Counters;
        string seen = string.Join(", ", batches.Select(b => $"[{b.Count} jobs, TotalWeight {b.TotalWeight}]"));
        output.WriteLine($"accepted {accepted}, batches {seen}, counters {c}");
        Assert.NotEmpty(batches);
        foreach ((long total, BigInteger truth, int _) in batches)
        {
            Assert.True(total >= 0, $"a batch's TotalWeight wrapped negative: {seen}");
            Assert.True(truth <= long.MaxValue, $"a batch holds more than MaxBatchWeight (long.MaxValue): {seen}");
            Assert.True(total == truth, $"a batch's TotalWeight is not the sum of its jobs' weights: {seen}");
        }

        Assert.Equal(c.Accepted, c.Succeeded + c.Dropped);
        Assert.Equal(c.Succeeded, batches.Sum(b => b.Count));
        Contained.ThrowIfEscaped(mark, "the scenario");
    }
}
