namespace Tinybatch.Loading.Internal;

/// <summary>Loading: joining a key's pending entry or creating it, waiting per caller, and completing the entry.</summary>
internal sealed partial class KeyLoader<TKey, TStored>
{
    public Task<TStored> LoadAsync(TKey key, CancellationToken cancellationToken)
    {
        ThrowIfNull(key);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TStored>(cancellationToken);
        }

        if (!TryJoin(key, out LoadEntry<TKey, TStored>? entry, out Exception? error))
        {
            return Task.FromException<TStored>(error!);
        }

        return cancellationToken.CanBeCanceled ? WaitAsync(entry!, cancellationToken) : entry!.Task;
    }

    /// <summary>As <see cref="LoadAsync"/>, but a key the fetch had no value for gives <see langword="default"/>.</summary>
    public async Task<TStored?> LoadOrDefaultAsync(TKey key, CancellationToken cancellationToken)
    {
        ThrowIfNull(key);
        cancellationToken.ThrowIfCancellationRequested();
        if (!TryJoin(key, out LoadEntry<TKey, TStored>? entry, out Exception? error))
        {
            throw error!;
        }

        Task<TStored> load = cancellationToken.CanBeCanceled ? WaitAsync(entry!, cancellationToken) : entry!.Task;
        await ((Task)load).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (load.IsFaulted && entry!.Missing)
        {
            _ = load.Exception;
            return default;
        }

        return await load.ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<TStored>> LoadManyAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken)
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

        var loads = new Task<TStored>[list.Length];
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
        var values = new TStored[list.Length];
        List<Exception>? failures = null;
        for (int i = 0; i < loads.Length; i++)
        {
            Task<TStored> load = loads[i];
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

    /// <summary>
    /// Finds the key's entry (cached, or pending) or creates and submits it, and counts the caller in. Fails, with what
    /// was thrown, when the key's hashing or the comparer throws; with <see cref="BatcherStoppedException"/> after dispose.
    /// </summary>
    private bool TryJoin(TKey key, out LoadEntry<TKey, TStored>? entry, out Exception? error)
    {
        bool created = false;
        error = null;
        try
        {
            lock (_gate)
            {
                if (_state != Open)
                {
                    entry = null;
                    error = Stopped(key);
                    return false;
                }

                if (_cache is not null && _cache.TryGet(key, out entry))
                {
                    return true;
                }

                // A completed entry still pending is one whose removal threw (its key hashed differently then): replace it.
                if (!_pending.TryGetValue(key, out entry) || entry.Task.IsCompleted)
                {
                    entry = new LoadEntry<TKey, TStored>(key);
                    _pending[key] = entry;
                    created = true;
                }

                entry.Waiters++;
            }
        }
        catch (Exception ex)
        {
            entry = null;
            error = ex;
            return false;
        }

        if (created)
        {
            _ = RunAsync(entry);
        }

        return true;
    }

    /// <summary>Submits the key's job and hands its outcome to every caller of the key. It never throws.</summary>
    private async Task RunAsync(LoadEntry<TKey, TStored> entry)
    {
        TStored value = default!;
        Exception? failure = null;
        try
        {
            value = await _batcher.AddAndWaitAsync(entry, entry.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        Exception? bookkeeping = null;
        try
        {
            // Forgotten before the callers see the outcome, so that a retry by them after a failure fetches again.
            lock (_gate)
            {
                RemovePending(entry);
                if (failure is null && _cache is not null && !entry.Detached && _state == Open)
                {
                    _cache.TryAdd(entry.Key, entry);
                }
            }
        }
        catch (Exception ex)
        {
            bookkeeping = ex;
        }

        if (failure is OperationCanceledException && entry.IsCancellationRequested && bookkeeping is null)
        {
            entry.SetCanceled(entry.Token);
        }
        else if (failure is not null || bookkeeping is not null)
        {
            entry.SetException(failure is null ? [bookkeeping!] : bookkeeping is null ? [failure] : [failure, bookkeeping]);
        }
        else if (entry.Missing)
        {
            entry.SetException(new KeyNotFoundException($"The fetch of data loader '{_name}' returned no value for key '{entry.Key}'."));
        }
        else
        {
            entry.SetResult(value);
        }
    }

    /// <summary>Waits for the key with this caller's token; the last caller to leave before dispatch drops the key.</summary>
    private async Task<TStored> WaitAsync(LoadEntry<TKey, TStored> entry, CancellationToken cancellationToken)
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

    /// <summary>Counts a caller out. If the key's hashing throws here, the leaving caller gets that exception instead.</summary>
    private void Leave(LoadEntry<TKey, TStored> entry)
    {
        bool drop;
        lock (_gate)
        {
            entry.Waiters--;
            drop = entry.Waiters == 0 && !entry.Dispatched && !entry.Abandoned && !entry.Task.IsCompleted;
            if (drop)
            {
                RemovePending(entry);
                entry.Abandoned = true;
            }
        }

        if (drop)
        {
            // Outside the lock: cancelling runs the batcher's callback, which removes the job from its batch.
            entry.Cancel();
        }
    }

    private void ThrowIfNull(TKey key)
    {
        if (key is null)
        {
            throw new ArgumentNullException(nameof(key), $"Data loader '{_name}' cannot load a null key.");
        }
    }
}
