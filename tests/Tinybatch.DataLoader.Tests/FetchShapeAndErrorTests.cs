using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.DataLoader.Tests;

public sealed class FetchShapeAndErrorTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan Guard = TestFetch<int>.Guard;

    [Fact]
    public async Task LoadAsync_FetchByPosition_ValueIBelongsToKeyI()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(
            (keys, ct) =>
            {
                fetch.Record(keys);
                return ValueTask.FromResult<IReadOnlyList<string>>([.. keys.Select(k => "p" + k)]);
            },
            LoaderFactory.Options<int>(time));

        Task<string>[] loads = [loader.LoadAsync(5), loader.LoadAsync(4)];
        await loader.AdvanceAsync(time, Delay);

        Assert.Equal(["p5", "p4"], await Task.WhenAll(loads).WaitAsync(Guard));
    }

    [Fact]
    public async Task LoadAsync_FetchByPositionWrongCount_FailsEveryKeyOfTheBatch()
    {
        var time = new FakeTimeProvider();
        await using var loader = new DataLoader<int, string>(
            (keys, ct) => ValueTask.FromResult<IReadOnlyList<string>>(["only one"]),
            LoaderFactory.Options<int>(time));

        Task<string>[] loads = [loader.LoadAsync(1), loader.LoadAsync(2)];
        await loader.AdvanceAsync(time, Delay);

        foreach (Task<string> load in loads)
        {
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => load.WaitAsync(Guard));
            Assert.Contains("returned 1 values for 2 keys", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task LoadAsync_ResultsByPosition_FailsOnlyTheFailedKeyAndCachesTheOthers()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(
            (keys, ct) =>
            {
                fetch.Record(keys);
                return ValueTask.FromResult<IReadOnlyList<LoadResult<string>>>(
                    [.. keys.Select(k => k == 2 ? LoadResult.Failure<string>(new InvalidDataException("bad 2")) : LoadResult.Success("p" + k))]);
            },
            LoaderFactory.Options<int>(time));

        Task<string>[] loads = [loader.LoadAsync(3), loader.LoadAsync(2), loader.LoadAsync(1)];
        await loader.AdvanceAsync(time, Delay);

        Assert.Equal("p3", await loads[0].WaitAsync(Guard));
        Assert.Equal("bad 2", (await Assert.ThrowsAsync<InvalidDataException>(() => loads[1].WaitAsync(Guard))).Message);
        Assert.Equal("p1", await loads[2].WaitAsync(Guard));
        Assert.Equal(2, loader.CachedCount);
    }

    [Fact]
    public async Task LoadAsync_ResultsByPositionWrongCount_FailsEveryKeyOfTheBatch()
    {
        var time = new FakeTimeProvider();
        await using var loader = new DataLoader<int, string>(
            (keys, ct) => ValueTask.FromResult<IReadOnlyList<LoadResult<string>>>([LoadResult.Success("only one"), "and two", "and three"]),
            LoaderFactory.Options<int>(time));

        Task<string>[] loads = [loader.LoadAsync(1), loader.LoadAsync(2)];
        await loader.AdvanceAsync(time, Delay);

        foreach (Task<string> load in loads)
        {
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => load.WaitAsync(Guard));
            Assert.Contains("returned 3 values for 2 keys", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Constructor_AsyncLambdasOfEachShape_PickTheirOwnOverload()
    {
        // Overload resolution by the lambda's return type: each shape compiles without a cast and behaves as its own.
        await using var byKey = new DataLoader<int, string>(async (keys, ct) =>
        {
            await Task.Yield();
            return keys.ToDictionary(k => k, k => "d" + k);
        });
        await using var byPosition = new DataLoader<int, string>(async (keys, ct) =>
        {
            await Task.Yield();
            return keys.Select(k => "l" + k).ToList();
        });
        await using var resultsByPosition = new DataLoader<int, string>(async (keys, ct) =>
        {
            await Task.Yield();
            return keys.Select(k => LoadResult.Success("r" + k)).ToList();
        });

        Assert.Equal("d1", await byKey.LoadAsync(1).WaitAsync(Guard));
        Assert.Equal("l1", await byPosition.LoadAsync(1).WaitAsync(Guard));
        Assert.Equal("r1", await resultsByPosition.LoadAsync(1).WaitAsync(Guard));
    }

    [Fact]
    public async Task LoadAsync_KeyMissingFromAnswer_ThrowsKeyNotFoundExceptionNamingTheKey()
    {
        var time = new FakeTimeProvider();
        await using var loader = new DataLoader<int, string>(
            (keys, ct) => ValueTask.FromResult<IReadOnlyDictionary<int, string>>(keys.Where(k => k != 13).ToDictionary(k => k, k => "v" + k)),
            LoaderFactory.Options<int>(time));

        Task<string> present = loader.LoadAsync(12);
        Task<string> missing = loader.LoadAsync(13);
        await loader.AdvanceAsync(time, Delay);

        Assert.Equal("v12", await present.WaitAsync(Guard));
        var ex = await Assert.ThrowsAsync<KeyNotFoundException>(() => missing.WaitAsync(Guard));
        Assert.Contains("'13'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadOrDefaultAsync_KeyMissingFromAnswer_ReturnsDefaultWhileLoadAsyncThrows()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(
            (keys, ct) =>
            {
                fetch.Record(keys);
                return ValueTask.FromResult<IReadOnlyDictionary<int, string>>(new Dictionary<int, string> { [2] = "v2" });
            },
            LoaderFactory.Options<int>(time));

        Task<string?> orDefault = loader.LoadOrDefaultAsync(1);
        Task<string> required = loader.LoadAsync(1);
        Task<string?> present = loader.LoadOrDefaultAsync(2);
        await loader.AdvanceAsync(time, Delay);

        Assert.Null(await orDefault.WaitAsync(Guard));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => required.WaitAsync(Guard));
        Assert.Equal("v2", await present.WaitAsync(Guard));

        // The source's "no such key" is an answer: it is cached like a value, and both methods keep their meaning.
        Assert.Null(await loader.LoadOrDefaultAsync(1).WaitAsync(Guard));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => loader.LoadAsync(1).WaitAsync(Guard));
        Assert.Equal([1, 2], Assert.Single(fetch.Batches));
    }

    [Fact]
    public async Task LoadOrDefaultAsync_KeyFailedWithKeyNotFoundException_StillThrows()
    {
        var time = new FakeTimeProvider();
        await using var loader = new DataLoader<int, string>(
            (keys, ct) => ValueTask.FromResult<IReadOnlyDictionary<int, LoadResult<string>>>(
                keys.ToDictionary(k => k, k => LoadResult.Failure<string>(new KeyNotFoundException("reported by the source")))),
            LoaderFactory.Options<int>(time));

        Task<string?> load = loader.LoadOrDefaultAsync(1);
        await loader.AdvanceAsync(time, Delay);

        Assert.Equal("reported by the source", (await Assert.ThrowsAsync<KeyNotFoundException>(() => load.WaitAsync(Guard))).Message);
    }

    [Fact]
    public async Task LoadAsync_PerKeyFailure_FailsOnlyThatKeysCallersAndIsNotCached()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        int calls = 0;
        await using var loader = new DataLoader<int, string>(
            (keys, ct) =>
            {
                fetch.Record(keys);
                bool firstCall = Interlocked.Increment(ref calls) == 1;
                return ValueTask.FromResult<IReadOnlyDictionary<int, LoadResult<string>>>(keys.ToDictionary(
                    k => k,
                    k => k == 2 && firstCall ? LoadResult.Failure<string>(new InvalidDataException("bad 2")) : LoadResult.Success("v" + k)));
            },
            LoaderFactory.Options<int>(time));

        Task<string>[] loads = [loader.LoadAsync(1), loader.LoadAsync(2), loader.LoadAsync(2), loader.LoadAsync(3)];
        await loader.AdvanceAsync(time, Delay);

        Assert.Equal("v1", await loads[0].WaitAsync(Guard));
        Assert.Equal("bad 2", (await Assert.ThrowsAsync<InvalidDataException>(() => loads[1].WaitAsync(Guard))).Message);
        await Assert.ThrowsAsync<InvalidDataException>(() => loads[2].WaitAsync(Guard));
        Assert.Equal("v3", await loads[3].WaitAsync(Guard));

        // The failed key was not cached: loading it again fetches it (alone, the others are cached).
        Task<string> again = loader.LoadAsync(2);
        await loader.AdvanceAsync(time, Delay);
        Assert.Equal("v2", await again.WaitAsync(Guard));
        Assert.Equal([2], fetch.Batches[^1]);
        Assert.Equal(2, fetch.Batches.Count);
    }

    [Fact]
    public async Task LoadAsync_FetchThrows_FailsEveryKeyOfTheBatchAndCachesNone()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        bool fail = true;
        await using var loader = new DataLoader<int, string>(
            (keys, ct) =>
            {
                fetch.Record(keys);
                return fail ? throw new TimeoutException("source down") : ValueTask.FromResult<IReadOnlyDictionary<int, string>>(keys.ToDictionary(k => k, k => "v" + k));
            },
            LoaderFactory.Options<int>(time));

        Task<string>[] loads = [loader.LoadAsync(1), loader.LoadAsync(2)];
        await loader.AdvanceAsync(time, Delay);
        foreach (Task<string> load in loads)
        {
            Assert.Equal("source down", (await Assert.ThrowsAsync<TimeoutException>(() => load.WaitAsync(Guard))).Message);
        }

        fail = false;
        Task<string>[] retry = [loader.LoadAsync(1), loader.LoadAsync(2)];
        await loader.AdvanceAsync(time, Delay);

        Assert.Equal(["v1", "v2"], await Task.WhenAll(retry).WaitAsync(Guard));
        Assert.Equal([[1, 2], [1, 2]], fetch.Batches);
        Assert.Equal(2, loader.CachedCount);
    }

    [Fact]
    public async Task LoadManyAsync_AllSucceed_ReturnsValuesInKeyOrderWithDuplicates()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));

        Task<IReadOnlyList<string>> many = loader.LoadManyAsync([9, 3, 9, 1]);
        await loader.AdvanceAsync(time, Delay);

        Assert.Equal(["v9", "v3", "v9", "v1"], await many.WaitAsync(Guard));
        Assert.Equal([9, 3, 1], Assert.Single(fetch.Batches));
    }

    [Fact]
    public async Task LoadManyAsync_SomeKeysFail_ThrowsAggregateNamingEachFailedKey()
    {
        var time = new FakeTimeProvider();
        await using var loader = new DataLoader<int, string>(
            (keys, ct) => ValueTask.FromResult<IReadOnlyDictionary<int, LoadResult<string>>>(keys.ToDictionary(
                k => k,
                k => k % 2 == 0 ? LoadResult.Failure<string>(new InvalidDataException("even " + k)) : (LoadResult<string>)("v" + k))),
            LoaderFactory.Options<int>(time));

        Task<IReadOnlyList<string>> many = loader.LoadManyAsync([1, 2, 3, 4]);
        await loader.AdvanceAsync(time, Delay);

        var aggregate = await Assert.ThrowsAsync<AggregateException>(() => many.WaitAsync(Guard));
        KeyLoadException[] failures = [.. aggregate.InnerExceptions.Cast<KeyLoadException>()];
        Assert.Equal([2, 4], failures.Select(f => (int)f.Key!));
        Assert.Equal([1, 3], failures.Select(f => f.Index));
        Assert.All(failures, f => Assert.IsType<InvalidDataException>(f.InnerException));
        Assert.Contains("key '2'", failures[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadManyAsync_NullKey_ThrowsArgumentNullExceptionNamingThePosition()
    {
        await using var loader = new DataLoader<string, string>(new TestFetch<string>().FetchAsync);

        var ex = await Assert.ThrowsAsync<ArgumentNullException>(() => loader.LoadManyAsync(["a", null!]));
        Assert.Contains("position 1", ex.Message, StringComparison.Ordinal);
    }
}
