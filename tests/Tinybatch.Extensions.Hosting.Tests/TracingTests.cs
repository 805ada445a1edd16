using System.Collections.Concurrent;
using System.Diagnostics;

namespace Tinybatch.Extensions.Hosting.Tests;

/// <summary>The core's <c>Tinybatch</c> activity source: one activity per batch, linked to the activities of the adds.</summary>
public sealed class TracingTests : IDisposable
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private const string ProducerName = "Tinybatch.Extensions.Hosting.Tests.Producer";
    private static readonly ActivitySource Producer = new(ProducerName);

    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public TracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is TinybatchTelemetry.ActivitySourceName or ProducerName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    // Other tests run in parallel and their batchers trace too: keep only this test's batcher.
    private Activity[] BatchActivities(string batcher) =>
        [.. _stopped.Where(a => a.Source.Name == TinybatchTelemetry.ActivitySourceName && Equals(a.GetTagItem("tinybatch.batcher.name"), batcher))];

    [Fact]
    public async Task BatchActivity_JobsAddedUnderActivities_LinksEveryAddActivity()
    {
        string name = "links-" + Guid.NewGuid().ToString("N");
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, new BatcherOptions<int, int>
        {
            Name = name,
            MaxBatchDelay = Timeout.InfiniteTimeSpan,
        });
        var addContexts = new List<ActivityContext>();
        for (int i = 0; i < 3; i++)
        {
            using Activity? add = Producer.StartActivity("add order");
            Assert.NotNull(add);
            addContexts.Add(add.Context);
            batcher.TryAdd(i);
        }

        batcher.Start();
        await batcher.FlushAsync().WaitAsync(Guard);
        await batcher.WhenIdleAsync().WaitAsync(Guard);

        Activity batch = Assert.Single(BatchActivities(name));
        Assert.Equal(addContexts, batch.Links.Select(l => l.Context));
        Assert.Equal(default, batch.ParentSpanId);
        Assert.DoesNotContain(addContexts, c => c.TraceId == batch.TraceId);
    }

    [Fact]
    public async Task BatchActivity_ThreeBatches_OneActivityEachWithNameKindAndTags()
    {
        string name = "per-batch-" + Guid.NewGuid().ToString("N");
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, new BatcherOptions<int, int>
        {
            Name = name,
            MaxBatchSize = 4,
            MaxBatchDelay = Timeout.InfiniteTimeSpan,
        });
        for (int i = 0; i < 10; i++)
        {
            batcher.TryAdd(i);
        }

        batcher.Start();
        await batcher.FlushAsync().WaitAsync(Guard);
        await batcher.WhenIdleAsync().WaitAsync(Guard);

        Activity[] batches = [.. BatchActivities(name).OrderBy(a => (long)a.GetTagItem("tinybatch.batch.id")!)];
        Assert.Equal(3, batches.Length);
        Assert.Equal(batcher.Counters.Batches, batches.Length);
        Assert.All(batches, a =>
        {
            Assert.Equal("tinybatch.batch " + name, a.DisplayName);
            Assert.Equal(ActivityKind.Internal, a.Kind);
            Assert.Empty(a.Links); // nothing was current at add time
        });
        Assert.Equal([1L, 2L, 3L], batches.Select(a => (long)a.GetTagItem("tinybatch.batch.id")!));
        Assert.Equal([4, 4, 2], batches.Select(a => (int)a.GetTagItem("tinybatch.batch.size")!));
    }

    [Fact]
    public async Task BatchActivity_HandlerRuns_HandlerSeesTheBatchActivityAsCurrent()
    {
        string name = "current-" + Guid.NewGuid().ToString("N");
        Activity? seen = null;
        await using var batcher = new Batcher<int, int>(
            (jobs, ct) =>
            {
                seen = Activity.Current;
                return jobs;
            },
            new BatcherOptions<int, int> { Name = name, MaxBatchDelay = TimeSpan.Zero });
        batcher.Start();

        await batcher.AddAndWaitAsync(1).AsTask().WaitAsync(Guard);
        await batcher.WhenIdleAsync().WaitAsync(Guard);

        Activity batch = Assert.Single(BatchActivities(name));
        Assert.Same(batch, seen);
    }

    [Fact]
    public async Task BatchActivity_HandlerThrows_ActivityStatusIsError()
    {
        string name = "error-" + Guid.NewGuid().ToString("N");
        await using var batcher = new Batcher<int, int>(
            (Func<IReadOnlyList<int>, CancellationToken, IReadOnlyList<int>>)((jobs, ct) => throw new InvalidOperationException("boom")),
            new BatcherOptions<int, int> { Name = name, MaxBatchDelay = TimeSpan.Zero });
        batcher.Start();

        await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.AddAndWaitAsync(1).AsTask().WaitAsync(Guard));
        await batcher.WhenIdleAsync().WaitAsync(Guard);

        Activity batch = Assert.Single(BatchActivities(name));
        Assert.Equal(ActivityStatusCode.Error, batch.Status);
    }
}
