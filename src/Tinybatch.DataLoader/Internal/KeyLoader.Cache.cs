namespace Tinybatch.Loading.Internal;

/// <summary>The cache: loaded keys kept for the loader's lifetime. Every method here does nothing when the cache is off.</summary>
internal sealed partial class KeyLoader<TKey, TStored>
{
    public bool Prime(TKey key, TStored value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_cache is null)
        {
            return false;
        }

        lock (_gate)
        {
            return _state == Open && !_pending.ContainsKey(key) && _cache.TryAdd(key, LoadEntry<TKey, TStored>.Completed(key, value));
        }
    }

    public bool Clear(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_cache is null)
        {
            return false;
        }

        lock (_gate)
        {
            bool removed = _cache.Remove(key);
            if (_pending.TryGetValue(key, out LoadEntry<TKey, TStored>? entry) && entry.Dispatched)
            {
                Detach(entry);
                removed = true;
            }

            return removed;
        }
    }

    public void ClearAll()
    {
        if (_cache is null)
        {
            return;
        }

        lock (_gate)
        {
            _cache.Clear();
            List<LoadEntry<TKey, TStored>>? running = null;
            foreach (LoadEntry<TKey, TStored> entry in _pending.Values)
            {
                if (entry.Dispatched)
                {
                    (running ??= []).Add(entry);
                }
            }

            foreach (LoadEntry<TKey, TStored> entry in running ?? [])
            {
                Detach(entry);
            }
        }
    }

    /// <summary>
    /// Detaches a running fetch: its callers keep it, but later loads start a new one, which cannot share its batch
    /// since this one is already dispatched. Call under the lock.
    /// </summary>
    private void Detach(LoadEntry<TKey, TStored> entry)
    {
        entry.Detached = true;
        _pending.Remove(entry.Key);
    }
}
