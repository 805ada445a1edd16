using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.DataLoader.Tests;

/// <summary>
/// A key's hashing and the key comparer are user code: whatever they throw, at whichever step, reaches the callers of
/// that load, and no load is left pending.
/// </summary>
public sealed class KeyHashingTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan Guard = TestFetch<int>.Guard;

    [Fact]
    public async Task LoadAsync_KeyHashThrowsAfterTheFetch_FailsTheLoadWithThatException()
    {
        var time = new FakeTimeProvider();
        var key = new FlakyKey(1);
        await using var loader = new DataLoader<FlakyKey, string>(
            (keys, ct) =>
            {
                key.Throw = true; // the bookkeeping after the fetch hashes the key again
                return ValueTask.FromResult<IReadOnlyList<string>>([.. keys.Select(k => "v" + k.Id)]);
            },
            LoaderFactory.Options<FlakyKey>(time));

        Task<string> load = loader.LoadAsync(key);
        await loader.AdvanceAsync(time, Delay);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => load.WaitAsync(Guard));
        Assert.Equal("hash of key 1", ex.Message);
    }

    [Fact]
    public async Task LoadAsync_ComparerHashThrowsAfterTheFetch_FailsTheLoadWithThatException()
    {
        var time = new FakeTimeProvider();
        var comparer = new FlakyComparer();
        DataLoaderOptions<int> options = LoaderFactory.Options<int>(time);
        options.KeyComparer = comparer;
        await using var loader = new DataLoader<int, string>(
            (keys, ct) =>
            {
                comparer.ThrowOnHash = true;
                return ValueTask.FromResult<IReadOnlyList<string>>([.. keys.Select(k => "v" + k)]);
            },
            options);

        Task<string>[] loads = [loader.LoadAsync(1), loader.LoadAsync(2)];
        await loader.AdvanceAsync(time, Delay);

        foreach (Task<string> load in loads)
        {
            Assert.Equal("comparer hash", (await Assert.ThrowsAsync<InvalidOperationException>(() => load.WaitAsync(Guard))).Message);
        }
    }

    [Fact]
    public async Task LoadAsync_ComparerEqualsThrowsAfterTheFetch_FailsTheLoadWithThatException()
    {
        var time = new FakeTimeProvider();
        var comparer = new FlakyComparer { ConstantHash = true }; // every key collides, so lookups call Equals
        DataLoaderOptions<int> options = LoaderFactory.Options<int>(time);
        options.KeyComparer = comparer;
        await using var loader = new DataLoader<int, string>(
            (keys, ct) =>
            {
                comparer.ThrowOnEquals = true;
                return ValueTask.FromResult<IReadOnlyList<string>>([.. keys.Select(k => "v" + k)]);
            },
            options);

        Task<string>[] loads = [loader.LoadAsync(1), loader.LoadAsync(2)];
        await loader.AdvanceAsync(time, Delay);

        foreach (Task<string> load in loads)
        {
            Assert.Equal("comparer equals", (await Assert.ThrowsAsync<InvalidOperationException>(() => load.WaitAsync(Guard))).Message);
        }
    }

    [Fact]
    public async Task LoadAsync_KeyHashThrowsWhenCachedKeyIsLoadedAgain_FailsThatLoad()
    {
        var time = new FakeTimeProvider();
        var key = new FlakyKey(1);
        await using var loader = new DataLoader<FlakyKey, string>(
            (keys, ct) => ValueTask.FromResult<IReadOnlyList<string>>([.. keys.Select(k => "v" + k.Id)]),
            LoaderFactory.Options<FlakyKey>(time));
        Task<string> first = loader.LoadAsync(key);
        await loader.AdvanceAsync(time, Delay);
        Assert.Equal("v1", await first.WaitAsync(Guard));

        key.Throw = true;
        Task<string> again = loader.LoadAsync(key);

        Assert.Equal("hash of key 1", (await Assert.ThrowsAsync<InvalidOperationException>(() => again.WaitAsync(Guard))).Message);
    }

    [Fact]
    public async Task LoadManyAsync_OneKeyHashThrowsOnLoad_AggregateNamesThatKeyAndTheOthersLoad()
    {
        var time = new FakeTimeProvider();
        var bad = new FlakyKey(2) { Throw = true };
        await using var loader = new DataLoader<FlakyKey, string>(
            (keys, ct) => ValueTask.FromResult<IReadOnlyList<string>>([.. keys.Select(k => "v" + k.Id)]),
            LoaderFactory.Options<FlakyKey>(time));

        var good = new FlakyKey(1);
        Task<IReadOnlyList<string>> many = loader.LoadManyAsync([good, bad]);
        await loader.AdvanceAsync(time, Delay);

        var aggregate = await Assert.ThrowsAsync<AggregateException>(() => many.WaitAsync(Guard));
        KeyLoadException failure = Assert.IsType<KeyLoadException>(Assert.Single(aggregate.InnerExceptions));
        Assert.Same(bad, failure.Key);
        Assert.Equal(1, failure.Index);
        Assert.Equal("hash of key 2", failure.InnerException!.Message);
        Assert.Equal("v1", await loader.LoadAsync(good).WaitAsync(Guard));
    }

    [Fact]
    public async Task LoadAsync_AnswerDictionaryThrowsReadingOneKey_FailsOnlyThatKey()
    {
        var time = new FakeTimeProvider();
        await using var loader = new DataLoader<int, string>(
            (keys, ct) =>
            {
                var answer = new Dictionary<int, string>(new FlakyComparer { ThrowOnHashOf = 2 });
                foreach (int k in keys.Where(k => k != 2))
                {
                    answer.Add(k, "v" + k);
                }

                return ValueTask.FromResult<IReadOnlyDictionary<int, string>>(answer);
            },
            LoaderFactory.Options<int>(time));

        Task<string>[] loads = [loader.LoadAsync(1), loader.LoadAsync(2), loader.LoadAsync(3)];
        await loader.AdvanceAsync(time, Delay);

        Assert.Equal("v1", await loads[0].WaitAsync(Guard));
        Assert.Equal("comparer hash", (await Assert.ThrowsAsync<InvalidOperationException>(() => loads[1].WaitAsync(Guard))).Message);
        Assert.Equal("v3", await loads[2].WaitAsync(Guard));
    }

    /// <summary>A key whose hashing throws once told to, as a key with a broken or mutable GetHashCode would.</summary>
    private sealed class FlakyKey(int id) : IEquatable<FlakyKey>
    {
        public int Id { get; } = id;

        public bool Throw { get; set; }

        public bool Equals(FlakyKey? other) => other is not null && other.Id == Id;

        public override bool Equals(object? obj) => Equals(obj as FlakyKey);

        public override int GetHashCode() => Throw ? throw new InvalidOperationException("hash of key " + Id) : Id;

        public override string ToString() => Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed class FlakyComparer : IEqualityComparer<int>
    {
        public volatile bool ThrowOnHash;
        public volatile bool ThrowOnEquals;

        public bool ConstantHash { get; init; }

        public int? ThrowOnHashOf { get; init; }

        public bool Equals(int x, int y) => ThrowOnEquals ? throw new InvalidOperationException("comparer equals") : x == y;

        public int GetHashCode(int obj) =>
            ThrowOnHash || obj == ThrowOnHashOf ? throw new InvalidOperationException("comparer hash") : ConstantHash ? 0 : obj;
    }
}
