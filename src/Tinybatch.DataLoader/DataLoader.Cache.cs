using Tinybatch.Loading.Internal;

namespace Tinybatch;

/// <summary>The cache: values kept for the loader's lifetime. Every method here does nothing when the cache is off.</summary>
public sealed partial class DataLoader<TKey, TValue>
{
    /// <summary>
    /// Puts a value in the cache, so that loading <paramref name="key"/> returns it without a fetch. It does not
    /// overwrite: if the key has a cached value or a fetch already requested, nothing changes (call <see cref="Clear"/> first).
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <returns><see langword="true"/> if the value was added; <see langword="false"/> if the key had an entry or the cache is off.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    public bool Prime(TKey key, TValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_cache is null)
        {
            return false;
        }

        lock (_gate)
        {
            return !_pending.ContainsKey(key) && _cache.TryAdd(key, Task.FromResult(value));
        }
    }

    /// <summary>
    /// Forgets the cached value of <paramref name="key"/>, so that the next load fetches it again. If the key's fetch
    /// has already started, its callers still get its value, but that value is not cached and later loads fetch again.
    /// A key whose batch has not been fetched yet stays in it: its fetch comes after this call anyway.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> if a cached value or a running fetch was forgotten.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
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
            if (_pending.TryGetValue(key, out LoadEntry<TKey, TValue>? entry) && entry.Dispatched)
            {
                Detach(entry);
                removed = true;
            }

            return removed;
        }
    }

    /// <summary>Forgets every cached value and every running fetch, as <see cref="Clear"/> does for one key.</summary>
    public void ClearAll()
    {
        if (_cache is null)
        {
            return;
        }

        lock (_gate)
        {
            _cache.Clear();
            List<LoadEntry<TKey, TValue>>? running = null;
            foreach (LoadEntry<TKey, TValue> entry in _pending.Values)
            {
                if (entry.Dispatched)
                {
                    (running ??= []).Add(entry);
                }
            }

            foreach (LoadEntry<TKey, TValue> entry in running ?? [])
            {
                Detach(entry);
            }
        }
    }

    /// <summary>
    /// Detaches a running fetch: its callers keep it, but later loads start a new one, which cannot share its batch
    /// since this one is already dispatched. Call under the lock.
    /// </summary>
    private void Detach(LoadEntry<TKey, TValue> entry)
    {
        entry.Detached = true;
        _pending.Remove(entry.Key);
    }
}
