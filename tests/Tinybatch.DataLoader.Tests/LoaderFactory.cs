using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.DataLoader.Tests;

internal static class LoaderFactory
{
    public static DataLoaderOptions<TKey> Options<TKey>(FakeTimeProvider time, int maxBatchSize = 100, TimeSpan? delay = null) => new()
    {
        TimeProvider = time,
        MaxBatchSize = maxBatchSize,
        MaxBatchDelay = delay ?? TimeSpan.FromMilliseconds(1),
    };

    /// <summary>Waits until the loader's batcher sleeps with no fetch running: what was requested so far has been seen.</summary>
    public static Task IdleAsync<TKey, TValue>(this DataLoader<TKey, TValue> loader)
        where TKey : notnull => loader.Batcher.WhenIdleAsync().WaitAsync(TestFetch<TKey>.Guard);

    /// <summary>Moves the fake clock past the delay once the loader has armed its timer.</summary>
    public static async Task AdvanceAsync<TKey, TValue>(this DataLoader<TKey, TValue> loader, FakeTimeProvider time, TimeSpan by)
        where TKey : notnull
    {
        await loader.IdleAsync();
        time.Advance(by);
    }
}

/// <summary>The same helpers for the grouped loader.</summary>
internal static class GroupedLoaderFactory
{
    public static Task IdleAsync<TKey, TValue>(this GroupedDataLoader<TKey, TValue> loader)
        where TKey : notnull => loader.Batcher.WhenIdleAsync().WaitAsync(TestFetch<TKey>.Guard);

    public static async Task AdvanceAsync<TKey, TValue>(this GroupedDataLoader<TKey, TValue> loader, FakeTimeProvider time, TimeSpan by)
        where TKey : notnull
    {
        await loader.IdleAsync();
        time.Advance(by);
    }
}
