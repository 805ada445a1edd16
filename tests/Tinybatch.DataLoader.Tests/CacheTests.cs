using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.DataLoader.Tests;

public sealed class CacheTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan Guard = TestFetch<int>.Guard;

    private static async Task<string> LoadNowAsync(DataLoader<int, string> loader, FakeTimeProvider time, int key)
    {
        Task<string> load = loader.LoadAsync(key);
        if (!load.IsCompleted)
        {
            await loader.AdvanceAsync(time, Delay);
        }

        return await load.WaitAsync(Guard);
    }

    [Fact]
    public async Task LoadAsync_CachedKey_ReturnsWithoutFetching()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));

        await LoadNowAsync(loader, time, 1);
        Task<string> second = loader.LoadAsync(1);

        Assert.True(second.IsCompletedSuccessfully);
        Assert.Equal("v1", await second);
        Assert.Single(fetch.Batches);
    }

    [Fact]
    public async Task LoadAsync_KeyInFlight_JoinsTheRunningFetch()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int> { Gate = new TaskCompletionSource() };
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));

        Task<string> first = loader.LoadAsync(1);
        await loader.AdvanceAsync(time, Delay);
        await fetch.WaitForFetchAsync();
        Task<string> joined = loader.LoadAsync(1);
        fetch.Gate.SetResult();

        Assert.Equal("v1", await joined.WaitAsync(Guard));
        Assert.Equal("v1", await first.WaitAsync(Guard));
        Assert.Single(fetch.Batches);
    }

    [Fact]
    public async Task LoadAsync_CacheOff_FetchesEveryTimeButStillDeduplicatesWithinABatch()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        DataLoaderOptions<int> options = LoaderFactory.Options<int>(time);
        options.CacheEnabled = false;
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, options);

        Task<string>[] loads = [loader.LoadAsync(1), loader.LoadAsync(1)];
        await loader.AdvanceAsync(time, Delay);
        await Task.WhenAll(loads).WaitAsync(Guard);
        await LoadNowAsync(loader, time, 1);

        Assert.Equal([[1], [1]], fetch.Batches);
        Assert.Equal(0, loader.CachedCount);
    }

    [Fact]
    public async Task Prime_NewKey_IsReturnedWithoutFetching()
    {
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync);

        Assert.True(loader.Prime(4, "primed"));

        Assert.Equal("primed", await loader.LoadAsync(4).WaitAsync(Guard));
        Assert.Empty(fetch.Batches);
    }

    [Fact]
    public async Task Prime_ExistingEntry_DoesNotOverwriteUntilCleared()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));
        await LoadNowAsync(loader, time, 1);

        Assert.False(loader.Prime(1, "other"));
        Assert.Equal("v1", await LoadNowAsync(loader, time, 1));

        Assert.True(loader.Clear(1));
        Assert.True(loader.Prime(1, "other"));
        Assert.Equal("other", await LoadNowAsync(loader, time, 1));
    }

    [Fact]
    public async Task Prime_KeyAlreadyRequested_DoesNotOverwrite()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));

        Task<string> load = loader.LoadAsync(1);
        Assert.False(loader.Prime(1, "other"));
        await loader.AdvanceAsync(time, Delay);

        Assert.Equal("v1", await load.WaitAsync(Guard));
    }

    [Fact]
    public async Task Clear_CachedKey_NextLoadFetchesAgain()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));
        await LoadNowAsync(loader, time, 1);
        await LoadNowAsync(loader, time, 2);

        Assert.True(loader.Clear(1));
        Assert.False(loader.Clear(1));
        await LoadNowAsync(loader, time, 1);
        await LoadNowAsync(loader, time, 2);

        Assert.Equal([[1], [2], [1]], fetch.Batches);
    }

    [Fact]
    public async Task ClearAll_CachedKeys_NextLoadsFetchAgain()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));
        await LoadNowAsync(loader, time, 1);

        loader.ClearAll();

        Assert.Equal(0, loader.CachedCount);
        await LoadNowAsync(loader, time, 1);
        Assert.Equal(2, fetch.Batches.Count);
    }

    [Fact]
    public async Task Clear_WhileTheKeysFetchRuns_ItsValueIsNotCached()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int> { Gate = new TaskCompletionSource() };
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));

        Task<string> running = loader.LoadAsync(1);
        await loader.AdvanceAsync(time, Delay);
        await fetch.WaitForFetchAsync();
        Assert.True(loader.Clear(1));
        fetch.Gate.SetResult();

        Assert.Equal("v1", await running.WaitAsync(Guard));
        Assert.Equal(0, loader.CachedCount);
        await LoadNowAsync(loader, time, 1);
        Assert.Equal(2, fetch.Batches.Count);
    }

    [Fact]
    public async Task PrimeAndClear_CacheOff_DoNothing()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        DataLoaderOptions<int> options = LoaderFactory.Options<int>(time);
        options.CacheEnabled = false;
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, options);

        Assert.False(loader.Prime(1, "primed"));
        Assert.Equal("v1", await LoadNowAsync(loader, time, 1));
        Assert.False(loader.Clear(1));
        loader.ClearAll();
        Assert.Single(fetch.Batches);
    }

    [Fact]
    public async Task LoadAsync_CacheSizeLimit_EvictsTheLeastRecentlyUsedValue()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        DataLoaderOptions<int> options = LoaderFactory.Options<int>(time);
        options.CacheSizeLimit = 2;
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, options);

        await LoadNowAsync(loader, time, 1);
        await LoadNowAsync(loader, time, 2);
        await LoadNowAsync(loader, time, 1); // hit: 1 becomes the most recently used
        await LoadNowAsync(loader, time, 3); // evicts 2
        Assert.Equal(2, loader.CachedCount);

        await LoadNowAsync(loader, time, 1); // still cached
        await LoadNowAsync(loader, time, 2); // fetched again

        Assert.Equal([[1], [2], [3], [2]], fetch.Batches);
    }
}
