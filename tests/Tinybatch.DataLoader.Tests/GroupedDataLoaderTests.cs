using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.DataLoader.Tests;

/// <summary>The one-to-many loader: the one-to-one loader's behaviours, with a list of values per key.</summary>
public sealed class GroupedDataLoaderTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan Guard = TestFetch<int>.Guard;

    /// <summary>Posts by author: author a has the posts a*10+1 .. a*10+a (author 0 has none).</summary>
    private static (GroupedDataLoader<int, int> Loader, TestFetch<int> Fetch) PostsByAuthor(FakeTimeProvider time, DataLoaderOptions<int>? options = null)
    {
        var fetch = new TestFetch<int>();
        var loader = new GroupedDataLoader<int, int>(
            async (authors, ct) =>
            {
                fetch.Record(authors);
                if (fetch.Gate is { } gate)
                {
                    await gate.Task;
                }

                return authors.SelectMany(a => Enumerable.Range((a * 10) + 1, a)).ToLookup(post => post / 10);
            },
            options ?? LoaderFactory.Options<int>(time));
        return (loader, fetch);
    }

    [Fact]
    public async Task LoadAsync_LoadsIssuedTogether_OneFetchOfDistinctKeysAndEachKeyGetsItsGroup()
    {
        var time = new FakeTimeProvider();
        (GroupedDataLoader<int, int> loader, TestFetch<int> fetch) = PostsByAuthor(time);
        await using GroupedDataLoader<int, int> _ = loader;

        Task<IReadOnlyList<int>>[] loads = [loader.LoadAsync(2), loader.LoadAsync(3), loader.LoadAsync(2)];
        await loader.AdvanceAsync(time, Delay);
        IReadOnlyList<int>[] groups = await Task.WhenAll(loads).WaitAsync(Guard);

        Assert.Equal([21, 22], groups[0]);
        Assert.Equal([31, 32, 33], groups[1]);
        Assert.Same(groups[0], groups[2]);
        Assert.Equal([2, 3], Assert.Single(fetch.Batches));
    }

    [Fact]
    public async Task LoadAsync_KeyWithoutValues_ReturnsAnEmptyListAndCachesIt()
    {
        var time = new FakeTimeProvider();
        (GroupedDataLoader<int, int> loader, TestFetch<int> fetch) = PostsByAuthor(time);
        await using GroupedDataLoader<int, int> _ = loader;

        Task<IReadOnlyList<int>> none = loader.LoadAsync(0);
        await loader.AdvanceAsync(time, Delay);

        Assert.Empty(await none.WaitAsync(Guard));
        Assert.Empty(await loader.LoadAsync(0).WaitAsync(Guard));
        Assert.Single(fetch.Batches);
        Assert.Equal(1, loader.CachedCount);
    }

    [Fact]
    public async Task LoadAsync_OneOfTwoCallersCancels_TheOtherStillGetsTheGroup()
    {
        var time = new FakeTimeProvider();
        (GroupedDataLoader<int, int> loader, TestFetch<int> fetch) = PostsByAuthor(time);
        await using GroupedDataLoader<int, int> _ = loader;
        using var cts = new CancellationTokenSource();

        Task<IReadOnlyList<int>> leaving = loader.LoadAsync(1, cts.Token);
        Task<IReadOnlyList<int>> staying = loader.LoadAsync(1);
        Task<IReadOnlyList<int>> gone = loader.LoadAsync(4, cts.Token);
        await loader.IdleAsync();
        await cts.CancelAsync();
        await loader.AdvanceAsync(time, Delay);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving.WaitAsync(Guard));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gone.WaitAsync(Guard));
        Assert.Equal([11], await staying.WaitAsync(Guard));
        Assert.Equal([1], Assert.Single(fetch.Batches)); // key 4 lost every caller before dispatch: not fetched
    }

    [Fact]
    public async Task LoadAsync_PerKeyFailure_FailsOnlyThatKeyAndIsNotCached()
    {
        var time = new FakeTimeProvider();
        int calls = 0;
        await using var loader = new GroupedDataLoader<int, string>(
            (keys, ct) =>
            {
                bool first = Interlocked.Increment(ref calls) == 1;
                return ValueTask.FromResult<IReadOnlyDictionary<int, LoadResult<IReadOnlyList<string>>>>(keys
                    .Where(k => k != 3) // missing: no values
                    .ToDictionary(
                        k => k,
                        k => k == 2 && first
                            ? LoadResult.Failure<IReadOnlyList<string>>(new InvalidDataException("bad 2"))
                            : LoadResult.Success<IReadOnlyList<string>>(["a" + k, "b" + k])));
            },
            LoaderFactory.Options<int>(time));

        Task<IReadOnlyList<string>>[] loads = [loader.LoadAsync(1), loader.LoadAsync(2), loader.LoadAsync(3)];
        await loader.AdvanceAsync(time, Delay);

        Assert.Equal(["a1", "b1"], await loads[0].WaitAsync(Guard));
        Assert.Equal("bad 2", (await Assert.ThrowsAsync<InvalidDataException>(() => loads[1].WaitAsync(Guard))).Message);
        Assert.Empty(await loads[2].WaitAsync(Guard));

        Task<IReadOnlyList<string>> again = loader.LoadAsync(2);
        await loader.AdvanceAsync(time, Delay);
        Assert.Equal(["a2", "b2"], await again.WaitAsync(Guard));
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task LoadAsync_FetchThrows_FailsEveryKeyOfTheBatch()
    {
        var time = new FakeTimeProvider();
        await using var loader = new GroupedDataLoader<int, int>(
            (keys, ct) => ValueTask.FromException<ILookup<int, int>>(new TimeoutException("source down")),
            LoaderFactory.Options<int>(time));

        Task<IReadOnlyList<int>>[] loads = [loader.LoadAsync(1), loader.LoadAsync(2)];
        await loader.AdvanceAsync(time, Delay);

        foreach (Task<IReadOnlyList<int>> load in loads)
        {
            Assert.Equal("source down", (await Assert.ThrowsAsync<TimeoutException>(() => load.WaitAsync(Guard))).Message);
        }

        Assert.Equal(0, loader.CachedCount);
    }

    [Fact]
    public async Task LoadAsync_NullLookup_FailsEveryKeyNamingTheLoader()
    {
        var time = new FakeTimeProvider();
        DataLoaderOptions<int> options = LoaderFactory.Options<int>(time);
        options.Name = "posts";
        await using var loader = new GroupedDataLoader<int, int>((keys, ct) => ValueTask.FromResult<ILookup<int, int>>(null!), options);

        Task<IReadOnlyList<int>> load = loader.LoadAsync(1);
        await loader.AdvanceAsync(time, Delay);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => load.WaitAsync(Guard));
        Assert.Contains("'posts' returned a null lookup", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadManyAsync_KeysWithDuplicates_ReturnsGroupsInKeyOrder()
    {
        var time = new FakeTimeProvider();
        (GroupedDataLoader<int, int> loader, TestFetch<int> fetch) = PostsByAuthor(time);
        await using GroupedDataLoader<int, int> _ = loader;

        Task<IReadOnlyList<IReadOnlyList<int>>> many = loader.LoadManyAsync([2, 0, 2, 1]);
        await loader.AdvanceAsync(time, Delay);

        IReadOnlyList<IReadOnlyList<int>> groups = await many.WaitAsync(Guard);
        Assert.Equal([[21, 22], [], [21, 22], [11]], groups);
        Assert.Equal([2, 0, 1], Assert.Single(fetch.Batches));
    }

    [Fact]
    public async Task Prime_ThenLoad_ReturnsPrimedValuesWithoutFetching()
    {
        var time = new FakeTimeProvider();
        (GroupedDataLoader<int, int> loader, TestFetch<int> fetch) = PostsByAuthor(time);
        await using GroupedDataLoader<int, int> _ = loader;

        Assert.True(loader.Prime(5, [7, 8]));
        Assert.False(loader.Prime(5, [9]));

        Assert.Equal([7, 8], await loader.LoadAsync(5).WaitAsync(Guard));
        Assert.Empty(fetch.Batches);
        Assert.True(loader.Clear(5));
    }

    [Fact]
    public async Task LoadAsync_KeyComparer_GroupsEqualKeysAsOne()
    {
        var time = new FakeTimeProvider();
        DataLoaderOptions<string> options = LoaderFactory.Options<string>(time);
        options.KeyComparer = StringComparer.OrdinalIgnoreCase;
        var fetch = new TestFetch<string>();
        await using var loader = new GroupedDataLoader<string, string>(
            (keys, ct) =>
            {
                fetch.Record(keys);
                return ValueTask.FromResult(keys.SelectMany(k => new[] { k + "1", k + "2" }).ToLookup(v => v[..^1], StringComparer.OrdinalIgnoreCase));
            },
            options);

        Task<IReadOnlyList<string>>[] loads = [loader.LoadAsync("a"), loader.LoadAsync("A")];
        await loader.AdvanceAsync(time, Delay);

        Assert.Equal(["a1", "a2"], await loads[1].WaitAsync(Guard));
        Assert.Equal(["a"], Assert.Single(fetch.Batches));
    }
}
