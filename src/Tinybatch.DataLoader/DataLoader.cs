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
/// <para>A loader is meant to live as long as one unit of work, for example one web request (register it as scoped).
/// Dispose it to stop its batcher: keys already requested are still fetched.</para>
/// </remarks>
[DebuggerDisplay("{Name}: pending = {PendingCount}, cached = {CachedCount}")]
public sealed partial class DataLoader<TKey, TValue> : IAsyncDisposable
    where TKey : notnull
{
    private readonly object _gate = new();
    private readonly Dictionary<TKey, LoadEntry<TKey, TValue>> _pending;
    private readonly ValueCache<TKey, TValue>? _cache;
    private readonly Batcher<LoadEntry<TKey, TValue>, TValue> _batcher;
    private readonly string _name;
    private readonly MissingKeyBehavior _missingKeyBehavior;

    private DataLoader(FetchKind kind, Delegate fetch, DataLoaderOptions<TKey>? options)
    {
        options ??= new DataLoaderOptions<TKey>();
        ThrowIfInvalid(options);
        _kind = kind;
        _fetch = fetch;
        _name = options.Name;
        _missingKeyBehavior = options.MissingKeyBehavior;
        _pending = new Dictionary<TKey, LoadEntry<TKey, TValue>>(options.KeyComparer);
        if (options.CacheEnabled)
        {
            _cache = new ValueCache<TKey, TValue>(options.CacheSizeLimit ?? int.MaxValue, options.KeyComparer);
        }

        var batcherOptions = new BatcherOptions<LoadEntry<TKey, TValue>, TValue>
        {
            MaxBatchSize = options.MaxBatchSize,
            MaxBatchDelay = options.MaxBatchDelay,
            MaxConcurrentBatches = options.MaxConcurrentFetches,
            Capacity = Math.Max(BatcherOptions.DefaultCapacity, options.MaxBatchSize),
            Name = options.Name,
            TimeProvider = options.TimeProvider,
        };
        _batcher = new Batcher<LoadEntry<TKey, TValue>, TValue>(HandleBatchAsync, batcherOptions);
        _batcher.Start();
    }

    /// <summary>Gets the loader's name, from <see cref="DataLoaderOptions.Name"/>.</summary>
    public string Name => _name;

    /// <summary>Gets the number of keys requested whose fetch has not ended yet.</summary>
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

    /// <summary>Gets the number of values in the cache (0 when the cache is off).</summary>
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

    /// <summary>Gets the counters of the underlying batcher: each batch is one fetch, each job one distinct key.</summary>
    public BatcherCounters Counters => _batcher.Counters;

    /// <summary>The batcher, for tests that wait for its loop to be idle.</summary>
    internal Batcher<LoadEntry<TKey, TValue>, TValue> Batcher => _batcher;

    /// <summary>
    /// Loads the value of <paramref name="key"/>: from the cache, by joining a fetch of the same key already requested,
    /// or through the next batch.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">
    /// Cancels this caller's wait only. Other callers of the same key keep waiting; if every caller of the key cancels
    /// before its batch is fetched, the key is left out of the batch.
    /// </param>
    /// <returns>The key's value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="KeyNotFoundException">The fetch returned no value for the key and <see cref="MissingKeyBehavior.Throw"/> applies.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="BatcherStoppedException">The loader was disposed.</exception>
    /// <remarks>Any exception of the fetch, or the per-key error it reported, fails the load with that exception.</remarks>
    public Task<TValue> LoadAsync(TKey key, CancellationToken cancellationToken = default)
    {
        if (key is null)
        {
            throw new ArgumentNullException(nameof(key), $"Data loader '{_name}' cannot load a null key.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TValue>(cancellationToken);
        }

        LoadEntry<TKey, TValue>? entry;
        bool created = false;
        lock (_gate)
        {
            if (_cache is not null && _cache.TryGet(key, out Task<TValue>? cached))
            {
                return cached!;
            }

            if (!_pending.TryGetValue(key, out entry))
            {
                entry = new LoadEntry<TKey, TValue>(key);
                _pending.Add(key, entry);
                created = true;
            }

            entry.Waiters++;
        }

        if (created)
        {
            _ = RunAsync(entry);
        }

        return cancellationToken.CanBeCanceled ? WaitAsync(entry, cancellationToken) : entry.Task;
    }

    /// <summary>Loads the values of several keys, all through the same batches, and returns them in the keys' order.</summary>
    /// <param name="keys">The keys; duplicates are allowed and fetched once.</param>
    /// <param name="cancellationToken">Cancels this caller's wait, as for <see cref="LoadAsync"/>.</param>
    /// <returns>One value per key, in the order of <paramref name="keys"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="keys"/> or one of its keys is null.</exception>
    /// <exception cref="AggregateException">
    /// At least one key failed: one <see cref="KeyLoadException"/> per failed key, naming it, whose inner exception is
    /// what failed that key.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<IReadOnlyList<TValue>> LoadManyAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        TKey[] list = [.. keys];
        for (int i = 0; i < list.Length; i++)
        {
            if (list[i] is null)
            {
                throw new ArgumentNullException(nameof(keys), $"Data loader '{_name}' cannot load a null key (position {i}).");
            }
        }

        var loads = new Task<TValue>[list.Length];
        for (int i = 0; i < list.Length; i++)
        {
            loads[i] = LoadAsync(list[i], cancellationToken);
        }

        try
        {
            await Task.WhenAll(loads).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Reported below, key by key.
        }

        cancellationToken.ThrowIfCancellationRequested();
        var values = new TValue[list.Length];
        List<Exception>? failures = null;
        for (int i = 0; i < loads.Length; i++)
        {
            Task<TValue> load = loads[i];
            if (load.IsCompletedSuccessfully)
            {
                values[i] = load.Result;
                continue;
            }

            Exception cause = load.IsCanceled
                ? new OperationCanceledException($"The load of key '{list[i]}' was cancelled.")
                : load.Exception!.InnerExceptions.Count == 1 ? load.Exception.InnerException! : load.Exception;
            (failures ??= []).Add(new KeyLoadException($"Data loader '{_name}' failed to load key '{list[i]}' (position {i}): {cause.Message}", cause)
            {
                Key = list[i],
                Index = i,
            });
        }

        if (failures is not null)
        {
            throw new AggregateException($"Data loader '{_name}' failed to load {failures.Count} of {list.Length} keys.", failures);
        }

        return values;
    }

    /// <summary>Stops the loader's batcher: keys already requested are fetched; later loads throw <see cref="BatcherStoppedException"/>.</summary>
    /// <returns>A task that completes when every requested key has an outcome.</returns>
    public ValueTask DisposeAsync() => _batcher.DisposeAsync();

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

    /// <summary>Submits the key's job and hands its outcome to every caller of the key.</summary>
    private async Task RunAsync(LoadEntry<TKey, TValue> entry)
    {
        TValue value;
        try
        {
            value = await _batcher.AddAndWaitAsync(entry, entry.Cancellation.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Forgotten before the callers see the failure, so that a retry by them fetches again.
            lock (_gate)
            {
                RemovePending(entry);
            }

            if (ex is OperationCanceledException && entry.Cancellation.IsCancellationRequested)
            {
                entry.SetCanceled(entry.Cancellation.Token);
            }
            else
            {
                entry.SetException(ex);
            }

            return;
        }

        lock (_gate)
        {
            RemovePending(entry);
            if (_cache is not null && !entry.Detached)
            {
                _cache.TryAdd(entry.Key, entry.Task);
            }
        }

        entry.SetResult(value);
    }

    /// <summary>Waits for the key with this caller's token; the last caller to leave before dispatch drops the key.</summary>
    private async Task<TValue> WaitAsync(LoadEntry<TKey, TValue> entry, CancellationToken cancellationToken)
    {
        try
        {
            return await entry.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !entry.Task.IsCompleted)
        {
            Leave(entry);
            throw;
        }
    }

    private void Leave(LoadEntry<TKey, TValue> entry)
    {
        bool drop;
        lock (_gate)
        {
            entry.Waiters--;
            drop = entry.Waiters == 0 && !entry.Dispatched && !entry.Abandoned && !entry.Task.IsCompleted;
            if (drop)
            {
                entry.Abandoned = true;
                RemovePending(entry);
            }
        }

        if (drop)
        {
            // Outside the lock: cancelling runs the batcher's callback, which removes the job from its batch.
            entry.Cancellation.Cancel();
        }
    }

    /// <summary>Removes the entry from the pending map if it is still the one there. Call under the lock.</summary>
    private void RemovePending(LoadEntry<TKey, TValue> entry)
    {
        if (_pending.TryGetValue(entry.Key, out LoadEntry<TKey, TValue>? current) && ReferenceEquals(current, entry))
        {
            _pending.Remove(entry.Key);
        }
    }
}
