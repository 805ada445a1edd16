using System.Diagnostics;

namespace Tinybatch.Loading.Internal;

/// <summary>
/// The engine of every loader shape: de-duplication of pending keys, per-caller cancellation, the cache, and the
/// batcher whose jobs are the distinct keys. The public loaders differ only in their fetch shapes and in what a key
/// loads to (<typeparamref name="TStored"/>: one value, or the list of values of a grouped loader).
/// </summary>
/// <remarks>
/// The key's hashing and the comparer are user code that may throw at any step. Whatever they throw reaches the
/// callers of that load: as the load's failure when a key is requested, and next to the fetch's outcome after it.
/// </remarks>
[DebuggerDisplay("{Name}: pending = {PendingCount}, cached = {CachedCount}")]
internal sealed partial class KeyLoader<TKey, TStored> : IAsyncDisposable, IDisposable
    where TKey : notnull
{
    private const int Open = 0;
    private const int Draining = 1;
    private const int Disposed = 2;

    private readonly object _gate = new();
    private readonly Dictionary<TKey, LoadEntry<TKey, TStored>> _pending;
    private readonly ValueCache<TKey, LoadEntry<TKey, TStored>>? _cache;
    private readonly Batcher<LoadEntry<TKey, TStored>, TStored> _batcher;
    private readonly KeyFetch<TKey, TStored> _fetch;
    private readonly string _name;
    private int _state;

    public KeyLoader(KeyFetch<TKey, TStored> fetch, DataLoaderOptions<TKey>? options)
    {
        options ??= new DataLoaderOptions<TKey>();
        ThrowIfInvalid(options);
        _fetch = fetch;
        _name = options.Name;
        _pending = new Dictionary<TKey, LoadEntry<TKey, TStored>>(options.KeyComparer);
        if (options.CacheEnabled)
        {
            _cache = new ValueCache<TKey, LoadEntry<TKey, TStored>>(options.CacheSizeLimit ?? int.MaxValue, options.KeyComparer);
        }

        var batcherOptions = new BatcherOptions<LoadEntry<TKey, TStored>, TStored>
        {
            MaxBatchSize = options.MaxBatchSize,
            MaxBatchDelay = options.MaxBatchDelay,
            MaxConcurrentBatches = options.MaxConcurrentFetches,
            Capacity = Math.Max(BatcherOptions.DefaultCapacity, options.MaxBatchSize),
            Name = options.Name,
            TimeProvider = options.TimeProvider,
        };
        _batcher = new Batcher<LoadEntry<TKey, TStored>, TStored>(HandleBatchAsync, batcherOptions);
        _batcher.Start();
    }

    public string Name => _name;

    public int PendingCount
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    public int CachedCount
    {
        get
        {
            lock (_gate)
            {
                return _cache?.Count ?? 0;
            }
        }
    }

    public BatcherCounters Counters => _batcher.Counters;

    public Batcher<LoadEntry<TKey, TStored>, TStored> Batcher => _batcher;

    /// <summary>Stops intake and drains: keys already requested are fetched; later loads fail.</summary>
    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_state == Open)
            {
                _state = Draining;
            }
        }

        return _batcher.DisposeAsync();
    }

    /// <summary>
    /// Stops intake and fails every load without an outcome yet, at once, without waiting for a running fetch: the
    /// batcher's own Dispose fails what it still holds the same way.
    /// </summary>
    public void Dispose()
    {
        LoadEntry<TKey, TStored>[] pending;
        lock (_gate)
        {
            if (_state == Disposed)
            {
                return;
            }

            _state = Disposed;
            pending = [.. _pending.Values];
            _pending.Clear();
        }

        foreach (LoadEntry<TKey, TStored> entry in pending)
        {
            entry.SetException(Stopped(entry.Key));
        }

        // Outside the lock; it never blocks: a running fetch gets its token cancelled and its answer is ignored.
        _batcher.Dispose();
    }

    private static void ThrowIfInvalid(DataLoaderOptions options)
    {
        IReadOnlyList<string> errors = options.Validate();
        if (errors.Count == 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), errors[0]);
        }

        if (errors.Count > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Invalid data loader options: " + string.Join(" ", errors));
        }
    }

    private BatcherStoppedException Stopped(TKey key) =>
        new($"Data loader '{_name}' was disposed before key '{key}' was loaded.");

    /// <summary>Removes the entry from the pending map if it is still the one there. Call under the lock; the key's hashing may throw.</summary>
    private void RemovePending(LoadEntry<TKey, TStored> entry)
    {
        if (_pending.TryGetValue(entry.Key, out LoadEntry<TKey, TStored>? current) && ReferenceEquals(current, entry))
        {
            _pending.Remove(entry.Key);
        }
    }
}
