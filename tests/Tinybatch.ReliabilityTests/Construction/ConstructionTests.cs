using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Tinybatch.Internal;
using Tinybatch.Partitioning;
using Tinybatch.ReliabilityTests.Support;
using Xunit.Abstractions;

namespace Tinybatch.ReliabilityTests.Construction;

/// <summary>
/// Construction is O(1): building a batcher does not visit the other live batchers. Creating 100,000 batchers, or a
/// partitioned batcher creating 20,000 partitions (MaxPartitions far above 1,024), completes. Nothing here is timed:
/// the elapsed time is printed for the record only (today each construction scans every live registration under one
/// lock, 7.8 s per 10,000 batchers past 60,000 when it was reported). What is asserted is the work itself: the engine's
/// counter <see cref="BatcherTelemetry.RegistrationScans"/> (entries of other registrations visited while registering)
/// stays where it was.
/// </summary>
[Collection(ReliabilitySuite.Name)]
public sealed class ConstructionTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Construct_HundredThousandLiveBatchers_AllConstructAndStop()
    {
        const int Count = 100_000;
        int mark = Contained.Mark();
        var time = new FakeTimeProvider();
        var batchers = new Batcher<int, int>[Count];
        long scans = BatcherTelemetry.RegistrationScans;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Count; i++)
        {
            batchers[i] = new Batcher<int, int>(
                (jobs, _) => new ValueTask<IReadOnlyList<int>>(jobs),
                new BatcherOptions<int, int> { MaxBatchSize = 1, Capacity = 1, MaxBatchDelay = TimeSpan.Zero, TimeProvider = time });
        }

        TimeSpan construction = clock.Elapsed;
        long visited = BatcherTelemetry.RegistrationScans - scans;
        Assert.True(visited == 0, $"building {Count} batchers visited {visited} entries of other registrations");
        Assert.Equal(BatcherState.Created, batchers[^1].State);
        batchers[^1].Start();
        Assert.Equal(5, await batchers[^1].AddAndWaitAsync(5).Within(mark, "a job in the last batcher built"));
        foreach (Batcher<int, int> batcher in batchers)
        {
            batcher.Dispose();
        }

        string line = $"construction: {Count} live batchers in {construction.TotalSeconds:F1} s (for the record, not asserted)";
        output.WriteLine(line);
        SuiteFigures.Record(line);
        Contained.ThrowIfEscaped(mark, "the scenario");
    }

    [Fact]
    public async Task Construct_PartitionedBatcherWithTwentyThousandPartitions_AllCreatedAndDrained()
    {
        const int Keys = 20_000;
        int mark = Contained.Mark();
        var batcher = new PartitionedBatcher<int, int, int>(
            job => job,
            (_, jobs, _) => new ValueTask<IReadOnlyList<int>>(jobs),
            new PartitionedBatcherOptions<int, int, int>
            {
                MaxPartitions = 1_000_000,
                IdleTimeout = Timeout.InfiniteTimeSpan,
                Partition = new BatcherOptions<int, int> { MaxBatchSize = 1, Capacity = 1, MaxBatchDelay = TimeSpan.Zero, TimeProvider = new FakeTimeProvider() },
            });
        long scans = BatcherTelemetry.RegistrationScans;
        var clock = Stopwatch.StartNew();
        for (int key = 0; key < Keys; key++)
        {
            Assert.True(batcher.TryAdd(key), $"the job of key {key} was refused");
        }

        TimeSpan creation = clock.Elapsed;
        long visited = BatcherTelemetry.RegistrationScans - scans;
        Assert.True(visited == 0, $"creating {Keys} partitions visited {visited} entries of other registrations");
        Assert.Equal(Keys, batcher.PartitionsCreated);
        batcher.Start();
        await batcher.StopAsync().Within(mark, "the drain of every partition");

        Assert.Equal(Keys, batcher.Counters.Succeeded);
        string line = $"construction: {Keys} partitions in {creation.TotalSeconds:F1} s (for the record, not asserted)";
        output.WriteLine(line);
        SuiteFigures.Record(line);
        Contained.ThrowIfEscaped(mark, "the scenario");
    }
}
