using System.Diagnostics;
using Tinybatch.Loading.Internal;

namespace Tinybatch;

/// <summary>
/// A one-to-many data loader: each key loads to a list of values (an author's posts, an order's lines). Loads issued
/// together reach the fetch as one batch of distinct keys, exactly as with <see cref="DataLoader{TKey, TValue}"/>, on
/// the same engine: the same batching, de-duplication, cache, per-caller cancellation, per-key errors and disposal.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The type of each value of a key.</typeparam>
/// <remarks>A key the fetch returns no values for loads to an empty list (and is cached as such).</remarks>
[DebuggerDisplay("{Name}: pending = {PendingCount}, cached = {CachedCount}")]
public sealed class GroupedDataLoader<TKey, TValue> : IGroupedDataLoader<TKey, TValue>, IAsyncDisposable, IDisposable
    where TKey : notnull
{
    private readonly KeyLoader<TKey, IReadOnlyList<TValue>> _loader;

    /// <summary>Creates a grouped loader whose fetch returns the values of a batch grouped by key.</summary>
    /// <param name="fetch">
    /// Receives the distinct keys of a batch, in first-request order, and returns their values grouped by key, for
    /// example <c>rows.ToLookup(r =&gt; r.AuthorId)</c>. A key without a group loads to an empty list; groups of other
    /// keys are ignored. The lookup is read with its own comparer. An exception fails every key of the batch.
    /// </param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fetch"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public GroupedDataLoader(
        Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<ILookup<TKey, TValue>>> fetch,
        DataLoaderOptions<TKey>? options = null) =>
        _loader = new KeyLoader<TKey, IReadOnlyList<TValue>>(FetchShapes.Grouped(fetch ?? throw new ArgumentNullException(nameof(fetch))), options);

    /// <summary>Creates a grouped loader whose fetch reports each key's outcome: its list of values, or an error for that key alone.</summary>
    /// <param name="fetch">
    /// Receives the distinct keys of a batch, in first-request order, and returns an outcome per key. A failed key fails
    /// only its callers and is not cached; a key missing from the answer loads to an empty list.
    /// </param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fetch"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public GroupedDataLoader(
        Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IReadOnlyDictionary<TKey, LoadResult<IReadOnlyList<TValue>>>>> fetch,
        DataLoaderOptions<TKey>? options = null) =>
        _loader = new KeyLoader<TKey, IReadOnlyList<TValue>>(FetchShapes.GroupedResults(fetch ?? throw new ArgumentNullException(nameof(fetch))), options);

    /// <summary>Gets the loader's name, from <see cref="DataLoaderOptions.Name"/>.</summary>
    public string Name => _loader.Name;

    /// <summary>Gets the number of keys requested whose fetch has not ended yet.</summary>
    public int PendingCount => _loader.PendingCount;

    /// <summary>Gets the number of keys in the cache (0 when the cache is off).</summary>
    public int CachedCount => _loader.CachedCount;

    /// <summary>Gets the counters of the underlying batcher: each batch is one fetch, each job one distinct key.</summary>
    public BatcherCounters Counters => _loader.Counters;

    /// <summary>The batcher, for tests that wait for its loop to be idle.</summary>
    internal Batcher<LoadEntry<TKey, IReadOnlyList<TValue>>, IReadOnlyList<TValue>> Batcher => _loader.Batcher;

    /// <inheritdoc/>
    public Task<IReadOnlyList<TValue>> LoadAsync(TKey key, CancellationToken cancellationToken = default) => _loader.LoadAsync(key, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<IReadOnlyList<TValue>>> LoadManyAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default) =>
        _loader.LoadManyAsync(keys, cancellationToken);

    /// <inheritdoc/>
    public bool Prime(TKey key, IReadOnlyList<TValue> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return _loader.Prime(key, values);
    }

    /// <inheritdoc/>
    public bool Clear(TKey key) => _loader.Clear(key);

    /// <inheritdoc/>
    public void ClearAll() => _loader.ClearAll();

    /// <summary>
    /// Stops the loader and drains it: keys already requested are fetched; later loads fail with
    /// <see cref="BatcherStoppedException"/>.
    /// </summary>
    /// <returns>A task that completes when every requested key has an outcome.</returns>
    public ValueTask DisposeAsync() => _loader.DisposeAsync();

    /// <summary>
    /// Stops the loader without waiting for anything: every load that has no outcome yet fails at once with
    /// <see cref="BatcherStoppedException"/> naming its key, as <see cref="DataLoader{TKey, TValue}.Dispose"/> does.
    /// </summary>
    public void Dispose() => _loader.Dispose();
}
