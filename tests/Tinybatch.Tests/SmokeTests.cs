using Microsoft.Extensions.Time.Testing;
using Tinybatch;

namespace Tinybatch.Tests;

public class SmokeTests
{
    [Fact]
    public async Task AddAndWait_FullBatch_ReturnsResultsByPosition()
    {
        var calls = new List<int>();
        await using var batcher = new Batcher<int, string>(
            (jobs, ct) => { lock (calls) { calls.Add(jobs.Count); } return jobs.Select(j => $"r{j}").ToList(); },
            new BatcherOptions<int, string> { MaxBatchSize = 4, MaxBatchDelay = Timeout.InfiniteTimeSpan });
        batcher.Start();
        var tasks = Enumerable.Range(0, 8).Select(i => batcher.AddAndWaitAsync(i).AsTask()).ToArray();
        var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Enumerable.Range(0, 8).Select(i => $"r{i}"), results);
        Assert.Equal(new[] { 4, 4 }, calls);
    }

    [Fact]
    public async Task Delay_FiresForEveryBatch()
    {
        var time = new FakeTimeProvider();
        var sizes = new List<int>();
        await using var batcher = new Batcher<int, int>(
            (jobs, ct) => { lock (sizes) { sizes.Add(jobs.Count); } return jobs.ToList(); },
            new BatcherOptions<int, int> { MaxBatchSize = 100, MaxBatchDelay = TimeSpan.FromMilliseconds(50), TimeProvider = time });
        batcher.Start();
        for (int round = 1; round <= 3; round++)
        {
            batcher.TryAdd(round);
            batcher.TryAdd(round);
            await batcher.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(10));
            time.Advance(TimeSpan.FromMilliseconds(49));
            await batcher.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(round - 1, sizes.Count);
            time.Advance(TimeSpan.FromMilliseconds(1));
            await batcher.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(round, sizes.Count);
        }

        await batcher.StopAsync();
        Assert.Equal(6, batcher.Counters.Succeeded);
    }
}
