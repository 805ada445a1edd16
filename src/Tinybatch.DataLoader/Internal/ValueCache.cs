namespace Tinybatch.Loading.Internal;

/// <summary>
/// The loaded values, as completed tasks so that a hit allocates nothing, evicting the least recently used one beyond
/// its limit. Not thread-safe: the loader's lock guards it.
/// </summary>
internal sealed class ValueCache<TKey, TValue>(int limit, IEqualityComparer<TKey>? comparer)
    where TKey : notnull
{
    private readonly Dictionary<TKey, LinkedListNode<KeyValuePair<TKey, Task<TValue>>>> _map = new(comparer);

    /// <summary>Most recently used first; only maintained when there is a limit.</summary>
    private readonly LinkedList<KeyValuePair<TKey, Task<TValue>>> _order = new();

    private bool Bounded => limit != int.MaxValue;

    public int Count => _map.Count;

    public bool TryGet(TKey key, out Task<TValue>? value)
    {
        if (!_map.TryGetValue(key, out LinkedListNode<KeyValuePair<TKey, Task<TValue>>>? node))
        {
            value = null;
            return false;
        }

        if (Bounded && node.Previous is not null)
        {
            _order.Remove(node);
            _order.AddFirst(node);
        }

        value = node.Value.Value;
        return true;
    }

    public bool ContainsKey(TKey key) => _map.ContainsKey(key);

    /// <summary>Adds a value unless the key has one; evicts the least recently used value beyond the limit.</summary>
    public bool TryAdd(TKey key, Task<TValue> value)
    {
        if (_map.ContainsKey(key))
        {
            return false;
        }

        var node = new LinkedListNode<KeyValuePair<TKey, Task<TValue>>>(new(key, value));
        _map.Add(key, node);
        if (Bounded)
        {
            _order.AddFirst(node);
            if (_map.Count > limit)
            {
                LinkedListNode<KeyValuePair<TKey, Task<TValue>>> last = _order.Last!;
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
            }
        }

        return true;
    }

    public bool Remove(TKey key)
    {
        if (!_map.Remove(key, out LinkedListNode<KeyValuePair<TKey, Task<TValue>>>? node))
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
