namespace Tinybatch.Loading.Internal;

/// <summary>
/// The loaded keys, evicting the least recently used one beyond its limit. Not thread-safe: the loader's lock guards
/// it. The key's hashing and the comparer may throw in any method; each method then leaves the cache as it was.
/// </summary>
internal sealed class ValueCache<TKey, TItem>(int limit, IEqualityComparer<TKey>? comparer)
    where TKey : notnull
{
    private readonly Dictionary<TKey, LinkedListNode<KeyValuePair<TKey, TItem>>> _map = new(comparer);

    /// <summary>Most recently used first; only maintained when there is a limit.</summary>
    private readonly LinkedList<KeyValuePair<TKey, TItem>> _order = new();

    private bool Bounded => limit != int.MaxValue;

    public int Count => _map.Count;

    public bool TryGet(TKey key, out TItem? item)
    {
        if (!_map.TryGetValue(key, out LinkedListNode<KeyValuePair<TKey, TItem>>? node))
        {
            item = default;
            return false;
        }

        if (Bounded && node.Previous is not null)
        {
            _order.Remove(node);
            _order.AddFirst(node);
        }

        item = node.Value.Value;
        return true;
    }

    public bool ContainsKey(TKey key) => _map.ContainsKey(key);

    /// <summary>Adds an item unless the key has one; evicts the least recently used item beyond the limit.</summary>
    public bool TryAdd(TKey key, TItem item)
    {
        var node = new LinkedListNode<KeyValuePair<TKey, TItem>>(new(key, item));
        if (!_map.TryAdd(key, node))
        {
            return false;
        }

        if (Bounded)
        {
            _order.AddFirst(node);
            if (_map.Count > limit)
            {
                LinkedListNode<KeyValuePair<TKey, TItem>> last = _order.Last!;
                try
                {
                    _map.Remove(last.Value.Key);
                }
                catch
                {
                    // The evicted key's hashing threw: undo the add, so that the cache stays within its limit.
                    _order.Remove(node);
                    _map.Remove(key);
                    throw;
                }

                _order.RemoveLast();
            }
        }

        return true;
    }

    public bool Remove(TKey key)
    {
        if (!_map.Remove(key, out LinkedListNode<KeyValuePair<TKey, TItem>>? node))
        {
            return false;
        }

        if (Bounded)
        {
            _order.Remove(node);
        }

        return true;
    }

    public void Clear()
    {
        _map.Clear();
        _order.Clear();
    }
}
