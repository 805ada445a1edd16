using System.Collections.Concurrent;

namespace Tinybatch.ReliabilityTests.Hazards;

/// <summary>DisposeAsync twice, concurrently, and racing producers: no job lost, no exception but BatcherStopped.</summary>
[Collection(ReliabilitySuite.Name)]
public sealed class DisposeTests
{
    private static readonly TimeSpan Guard = HangGuard.Timeout;

    [Fact]
    public async Task DisposeAsync_CalledTwice_BothCompleteAndJobsDrained()
    {
        var batcher = new Batcher<int, int>(
            (jobs, _) => jobs.ToArray(),
            new BatcherOptions<int, int> { MaxBatchSize = 10, MaxBatchDelay = Timeout.InfiniteTimeSpan });
        batcher.Start();
        Task<int> job = batcher.AddAndWaitAsync(5).AsTask();

        await batcher.DisposeAsync().AsTask().WaitAsync(Guard);
        await batcher.DisposeAsync().AsTask().WaitAsync(Guard);

        Assert.Equal(5, await job.WaitAsync(Guard));
        Assert.Equal(BatcherState.Stopped, batcher.State);
    }

    [Fact]
    public async Task DisposeAsync_ConcurrentCalls_AllCompleteTogether()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batcher = new Batcher<int, int>(
            async (Batch<int, int> batch, CancellationToken _) =>
            {
                await release.Task;
                batch.SetResults(batch.ToArray());
            },
            new BatcherOptions<int, int> { MaxBatchSize = 1, MaxBatchDelay = TimeSpan.Zero });
        batcher.Start();
        batcher.TryAdd(1);

        Task[] disposals = Enumerable.Range(0, 8).Select(_ => Task.Run(() => batcher.DisposeAsync().AsTask())).ToArray();
        await Task.Delay(20);
        Assert.DoesNotContain(disposals, d => d.IsCompleted);
        release.SetResult();
        await Task.WhenAll(disposals).WaitAsync(Guard);

        Assert.Equal(1, batcher.Counters.Succeeded);
    }

    [Fact]
    public async Task DisposeAsync_ConcurrentWithAdds_EveryAcceptedJobHasExactlyOneOutcome()
    {
        var seen = new ConcurrentDictionary<int, int>();
        var batcher = new Batcher<int, int>(
            (jobs, _) =>
            {
                foreach (int j in jobs)
                {
                    seen.AddOrUpdate(j, 1, (_, n) => n + 1);
                }

                return jobs.ToArray();
            },
            new BatcherOptions<int, int> { MaxBatchSize = 16, MaxBatchDelay = TimeSpan.FromMilliseconds(1) });
        batcher.Start();
        var accepted = new ConcurrentBag<int>();
        var awaited = new ConcurrentBag<Task<int>>();
        int refused = 0;
        using var go = new ManualResetEventSlim();

        Task[] producers = Enumerable.Range(0, 4).Select(p => Task.Run(() =>
        {
            go.Wait();
            for (int i = 0; i < 5_000; i++)
            {
                int id = (p * 100_000) + i;
                try
                {
                    if (i % 3 == 0)
                    {
                        awaited.Add(batcher.AddAndWaitAsync(id).AsTask());
                    }
                    else if (batcher.TryAdd(id))
                    {
                        accepted.Add(id);
                    }
                    else
                    {
                        // Buffer full: refused and counted as rejected.
                        Interlocked.Increment(ref refused);
                    }
                }
                catch (BatcherStoppedException)
                {
                    Interlocked.Increment(ref refused);
                }
            }
        })).ToArray();

        go.Set();
        await Task.Delay(5);
        Task[] disposals = [batcher.DisposeAsync().AsTask(), batcher.DisposeAsync().AsTask()];
        await Task.WhenAll(producers).WaitAsync(Guard);
        await Task.WhenAll(disposals).WaitAsync(Guard);

        foreach (Task<int> job in awaited)
        {
            try
            {
                accepted.Add(await job.WaitAsync(Guard));
            }
            catch (BatcherStoppedException)
            {
                // Refused: it waited for space when the stop began, so it was never accepted.
                Interlocked.Increment(ref refused);
            }
        }

        Assert.Equal(accepted.Count, seen.Count);
        Assert.All(seen, kv => Assert.Equal(1, kv.Value));
        Assert.All(accepted, id => Assert.True(seen.ContainsKey(id), $"job {id} was accepted but never handled"));
        BatcherCounters counters = batcher.Counters;
        Assert.Equal(accepted.Count, counters.Accepted);
        Assert.Equal(counters.Accepted, counters.Succeeded);
        Assert.Equal(Volatile.Read(ref refused), counters.Rejected);
        Assert.Equal(20_000, accepted.Count + Volatile.Read(ref refused));
    }
}
