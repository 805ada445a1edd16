using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>The "done when": 16 producers, 100,000 jobs each, every job processed exactly once.</summary>
[Collection(NonParallel.Name)]
public class ConcurrentProducersTests
{
    private const int Producers = 16;
    private const int JobsPerProducer = 100_000;

    [Fact]
    public async Task Producers_SixteenMixingAllAddKinds_EveryJobProcessedExactlyOnce()
    {
        int[] seen = new int[Producers * JobsPerProducer];
        int wrongResults = 0;
        var batcher = new Batcher<int, int>(
            (jobs, ct) =>
            {
                foreach (int id in jobs)
                {
                    Interlocked.Increment(ref seen[id]);
                }

                return jobs;
            },
            new BatcherOptions<int, int> { MaxBatchSize = 100, MaxBatchDelay = TimeSpan.FromMilliseconds(1), MaxConcurrentBatches = 2 });
        batcher.Start();

        Task[] producers = [.. Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            var awaited = new List<Task<int>>(1_000);
            for (int i = 0; i < JobsPerProducer; i++)
            {
                int id = (p * JobsPerProducer) + i;
                switch (i % 3)
                {
                    case 0:
                        if (!batcher.TryAdd(id))
                        {
                            // Buffer full: the caller still holds the job and hands it over with backpressure.
                            await batcher.AddAsync(id);
                        }

                        break;
                    case 1:
                        await batcher.AddAsync(id);
                        break;
                    default:
                        awaited.Add(batcher.AddAndWaitAsync(id).AsTask());
                        break;
                }

                if (awaited.Count == 1_000)
                {
                    await CheckAsync(awaited, p);
                }
            }

            await CheckAsync(awaited, p);
        }))];

        async Task CheckAsync(List<Task<int>> awaited, int producer)
        {
            int[] results = await Task.WhenAll(awaited);
            foreach (int r in results)
            {
                if (r / JobsPerProducer != producer)
                {
                    Interlocked.Increment(ref wrongResults);
                }
            }

            awaited.Clear();
        }

        await Task.WhenAll(producers).WaitAsync(TimeSpan.FromMinutes(5));
        await batcher.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));

        int missing = seen.Count(n => n == 0);
        int duplicated = seen.Count(n => n > 1);
        Assert.True(missing == 0 && duplicated == 0, $"{missing} jobs never processed, {duplicated} processed more than once");
        Assert.Equal(0, wrongResults);
        BatcherCounters c = batcher.Counters;
        Assert.Equal(Producers * JobsPerProducer, c.Accepted);
        Assert.Equal(Producers * JobsPerProducer, c.Succeeded);
        Assert.Equal(0, c.Failed + c.Canceled + c.Dropped);
    }
}
