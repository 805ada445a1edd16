namespace Tinybatch.DataLoader.Tests;

/// <summary>Real threads, real clock: cancellations racing dispatch, clears racing fetches. Invariants, not timings.</summary>
public sealed class ConcurrencyTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task LoadAsync_ManyCallersCancellingAtRandom_EveryLoadEndsAndNoBatchHasADuplicateKey(bool cacheEnabled)
    {
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(
            fetch.FetchAsync,
            new DataLoaderOptions<int> { CacheEnabled = cacheEnabled, MaxBatchSize = 16, MaxBatchDelay = TimeSpan.Zero });

        var random = new Random(1234);
        var loads = new List<(int Key, Task<string> Load, CancellationTokenSource? Cts)>();
        for (int i = 0; i < 3000; i++)
        {
            int key = random.Next(200);
            CancellationTokenSource? cts = random.Next(3) == 0 ? new CancellationTokenSource() : null;
            loads.Add((key, loader.LoadAsync(key, cts?.Token ?? default), cts));
            if (random.Next(10) == 0 && loads[random.Next(loads.Count)].Cts is { } victim)
            {
                await victim.CancelAsync();
            }

            if (random.Next(50) == 0)
            {
                loader.Clear(random.Next(200));
            }
        }

        foreach ((int key, Task<string> load, CancellationTokenSource? cts) in loads)
        {
            try
            {
                Assert.Equal(TestFetch<int>.ValueOf(key), await load.WaitAsync(TestFetch<int>.Guard));
            }
            catch (OperationCanceledException)
            {
                Assert.True(cts?.IsCancellationRequested);
            }
            finally
            {
                cts?.Dispose();
            }
        }

        Assert.All(fetch.Batches, batch => Assert.Equal(batch.Length, batch.Distinct().Count()));
        Assert.All(fetch.Batches, batch => Assert.InRange(batch.Length, 1, 16));
        Assert.Equal(0, loader.PendingCount);
    }
}
