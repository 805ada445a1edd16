using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.DataLoader.Tests;

public sealed class BatchingTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(1);

    [Fact]
    public async Task LoadAsync_KeysWithinDelay_FetchedOnceTogetherInFirstRequestOrder()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));

        Task<string>[] loads = [loader.LoadAsync(3), loader.LoadAsync(1), loader.LoadAsync(2)];
        await loader.IdleAsync();
        Assert.Empty(fetch.Batches);

        time.Advance(Delay);
        string[] values = await Task.WhenAll(loads).WaitAsync(TestFetch<int>.Guard);

        Assert.Equal(["v3", "v1", "v2"], values);
        int[] batch = Assert.Single(fetch.Batches);
        Assert.Equal([3, 1, 2], batch);
    }

    [Fact]
    public async Task LoadAsync_BeforeDelayPasses_DoesNotFetch()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time, delay: TimeSpan.FromMilliseconds(10)));

        Task<string> load = loader.LoadAsync(1);
        await loader.AdvanceAsync(time, TimeSpan.FromMilliseconds(9));
        await loader.IdleAsync();
        Assert.Empty(fetch.Batches);
        Assert.False(load.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("v1", await load.WaitAsync(TestFetch<int>.Guard));
        Assert.Single(fetch.Batches);
    }

    [Fact]
    public async Task LoadAsync_DuplicateKeys_FetchedOnceAndEveryCallerGetsTheValue()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));

        Task<string>[] loads = [loader.LoadAsync(7), loader.LoadAsync(8), loader.LoadAsync(7), loader.LoadAsync(7)];
        await loader.AdvanceAsync(time, Delay);
        string[] values = await Task.WhenAll(loads).WaitAsync(TestFetch<int>.Guard);

        Assert.Equal(["v7", "v8", "v7", "v7"], values);
        Assert.Equal([7, 8], Assert.Single(fetch.Batches));
    }

    [Fact]
    public async Task LoadAsync_MaxBatchSizeDistinctKeysPending_FetchesWithoutWaitingAndDuplicatesDoNotCount()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time, maxBatchSize: 3, delay: TimeSpan.FromHours(1)));

        Task<string>[] loads = [loader.LoadAsync(1), loader.LoadAsync(1), loader.LoadAsync(2), loader.LoadAsync(2), loader.LoadAsync(1)];
        await loader.IdleAsync();
        Assert.Empty(fetch.Batches);

        Task<string> third = loader.LoadAsync(3);
        await Task.WhenAll([.. loads, third]).WaitAsync(TestFetch<int>.Guard);

        Assert.Equal([1, 2, 3], Assert.Single(fetch.Batches));
    }

    [Fact]
    public async Task LoadAsync_MoreDistinctKeysThanMaxBatchSize_SplitsIntoFullBatches()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time, maxBatchSize: 2));

        Task<string>[] loads = [.. Enumerable.Range(1, 5).Select(k => loader.LoadAsync(k))];
        await loader.AdvanceAsync(time, Delay);
        await Task.WhenAll(loads).WaitAsync(TestFetch<int>.Guard);

        Assert.Equal([[1, 2], [3, 4], [5]], fetch.Batches);
    }

    [Fact]
    public async Task LoadAsync_ZeroDelay_FetchesWithoutTheClockMoving()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time, delay: TimeSpan.Zero));

        Assert.Equal("v1", await loader.LoadAsync(1).WaitAsync(TestFetch<int>.Guard));
    }

    [Fact]
    public async Task LoadAsync_ZeroDelay_KeysRequestedWhileAFetchRuns_GoTogetherIntoTheNextFetch()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int> { Gate = new TaskCompletionSource() };
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time, delay: TimeSpan.Zero));

        Task<string> first = loader.LoadAsync(1);
        await fetch.WaitForFetchAsync();
        Task<string>[] burst = [.. Enumerable.Range(2, 9).Select(k => loader.LoadAsync(k))];
        fetch.Gate.SetResult();
        await Task.WhenAll([first, .. burst]).WaitAsync(TestFetch<int>.Guard);

        Assert.Equal(2, fetch.Batches.Count);
        Assert.Equal([1], fetch.Batches[0]);
        Assert.Equal(Enumerable.Range(2, 9), fetch.Batches[1]);
    }

    [Fact]
    public async Task LoadAsync_NullKey_ThrowsArgumentNullException()
    {
        await using var loader = new DataLoader<string, string>(new TestFetch<string>().FetchAsync);

        ArgumentNullException ex = Assert.Throws<ArgumentNullException>(() => { _ = loader.LoadAsync(null!); });
        Assert.Equal("key", ex.ParamName);
    }

    [Fact]
    public async Task LoadAsync_KeyComparer_TreatsEqualKeysAsOne()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<string>();
        DataLoaderOptions<string> options = LoaderFactory.Options<string>(time);
        options.KeyComparer = StringComparer.OrdinalIgnoreCase;
        await using var loader = new DataLoader<string, string>(fetch.FetchAsync, options);

        Task<string>[] loads = [loader.LoadAsync("a"), loader.LoadAsync("A"), loader.LoadAsync("b")];
        await loader.AdvanceAsync(time, Delay);
        string[] values = await Task.WhenAll(loads).WaitAsync(TestFetch<string>.Guard);

        Assert.Equal(["a", "b"], Assert.Single(fetch.Batches));
        Assert.Equal(["va", "va", "vb"], values);
    }

    [Theory]
    [InlineData(nameof(DataLoaderOptions.MaxBatchSize))]
    [InlineData(nameof(DataLoaderOptions.MaxBatchDelay))]
    [InlineData(nameof(DataLoaderOptions.MaxConcurrentFetches))]
    [InlineData(nameof(DataLoaderOptions.CacheSizeLimit))]
    [InlineData(nameof(DataLoaderOptions.Name))]
    public void Constructor_InvalidOption_ThrowsNamingTheOption(string option)
    {
        var options = new DataLoaderOptions<int>();
        switch (option)
        {
            case nameof(DataLoaderOptions.MaxBatchSize): options.MaxBatchSize = 0; break;
            case nameof(DataLoaderOptions.MaxBatchDelay): options.MaxBatchDelay = TimeSpan.FromSeconds(-2); break;
            case nameof(DataLoaderOptions.MaxConcurrentFetches): options.MaxConcurrentFetches = 0; break;
            case nameof(DataLoaderOptions.CacheSizeLimit): options.CacheSizeLimit = 0; break;
            default: options.Name = " "; break;
        }

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader<int, string>(new TestFetch<int>().FetchAsync, options));
        Assert.Contains(option, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Defaults_AreDocumentedValues()
    {
        var options = new DataLoaderOptions<int>();

        Assert.Equal(100, options.MaxBatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(1), options.MaxBatchDelay);
        Assert.Equal(1, options.MaxConcurrentFetches);
        Assert.True(options.CacheEnabled);
        Assert.Null(options.CacheSizeLimit);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public async Task DisposeAsync_KeysPending_FetchesThemAndLaterLoadsThrow()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time, delay: TimeSpan.FromHours(1)));

        Task<string> load = loader.LoadAsync(1);
        await loader.DisposeAsync();

        Assert.Equal("v1", await load.WaitAsync(TestFetch<int>.Guard));
        await Assert.ThrowsAsync<BatcherStoppedException>(() => loader.LoadAsync(2).WaitAsync(TestFetch<int>.Guard));
    }
}
