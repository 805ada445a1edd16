using System.Diagnostics;
using Tinybatch.Loading.Internal;

namespace Tinybatch;

/// <summary>
/// Coalesces many single lookups into one fetch of distinct keys: <see cref="LoadAsync"/> calls made within
/// <see cref="DataLoaderOptions.MaxBatchDelay"/> of each other (or until <see cref="DataLoaderOptions.MaxBatchSize"/>
/// distinct keys are pending) reach the fetch function together, each key once, in first-request order.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
/// <remarks>
/// <para>Each caller waits with its own token: a caller that cancels leaves the others waiting; a key whose callers all
/// cancel before its batch is fetched is left out of the batch; a batch whose keys are all cancelled is not fetched.</para>
/// <para>A loader is meant to live as long as one unit of work, for example one web request (register it as scoped,
/// see <c>AddDataLoader</c>). <see cref="DisposeAsync"/> drains: keys already requested are still fetched.
/// <see cref="Dispose"/> does not wait: every load still pending fails at once with <see cref="BatcherStoppedException"/>.</para>
/// <para>For a one-to-many source (each key has a list of values) use <see cref="GroupedDataLoader{TKey, TValue}"/>.</para>
/// </remarks>
[DebuggerDisplay("{Name}: pending = {PendingCount}, cached = {CachedCount}")]
public sealed partial class DataLoader<TKey, TValue> : IDataLoader<TKey, TValue>, IAsyncDisposable, IDisposable
    where TKey : notnull
{
    private readonly KeyLoader<TKey, TValue> _loader;

    private DataLoader(KeyFetch<TKey, TValue> fetch, DataLoaderOptions<TKey>? options) =>
        _loader = new KeyLoader<TKey, TValue>(fetch, options);

    /// <summary>Gets the loader's name, from <see cref="DataLoaderOptions.Name"/>.</summary>
    public string Name => _loader.Name;

    /// <summary>Gets the number of keys requested whose fetch has not ended yet.</summary>
    public int PendingCount => _loader.PendingCount;

    /// <summary>Gets the number of keys in the cache, missing ones included (0 when the cache is off).</summary>
    public int CachedCount => _loader.CachedCount;

    /// <summary>Gets the counters of the underlying batcher: each batch is one fetch, each job one distinct key.</summary>
    public BatcherCounters Counters => _loader.Counters;

    /// <summary>The batcher, for tests that wait for its loop to be idle.</summary>
    internal Batcher<LoadEntry<TKey, TValue>, TValue> Batcher => _loader.Batcher;

    /// <inheritdoc/>
    public Task<TValue> LoadAsync(TKey key, CancellationToken cancellationToken = default) => _loader.LoadAsync(key, cancellationToken);

    /// <inheritdoc/>
    public Task<TValue?> LoadOrDefaultAsync(TKey key, CancellationToken cancellationToken = default) => _loader.LoadOrDefaultAsync(key, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<TValue>> LoadManyAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default) =>
        _loader.LoadManyAsync(keys, cancellationToken);

    /// <inheritdoc/>
    public bool Prime(TKey key, TValue value) => _loader.Prime(key, value);

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
    /// <see cref="BatcherStoppedException"/> naming its key, a running fetch's token is cancelled and its answer is
    /// ignored, and later loads fail with <see cref="BatcherStoppedException"/>. It never blocks. Calling it again, or
    /// after <see cref="DisposeAsync"/>, cuts a drain short the same way.
    /// </summary>
    public void Dispose() => _loader.Dispose();
}
