namespace Tinybatch.Internal;

/// <summary>
/// A small lock-free pool: one fast slot tried with a compare-and-swap, then a bounded array scanned the same way
/// (the shape of Microsoft.Extensions.ObjectPool's default pool). Returning to a full pool drops the object.
/// </summary>
internal sealed class ObjectPool<T>
    where T : class
{
    private readonly T?[] _items;
    private T? _fast;

    public ObjectPool(int size) => _items = new T?[Math.Max(0, size - 1)];

    public T? TryRent()
    {
        T? item = _fast;
        if (item is not null && Interlocked.CompareExchange(ref _fast, null, item) == item)
        {
            return item;
        }

        T?[] items = _items;
        for (int i = 0; i < items.Length; i++)
        {
            item = items[i];
            if (item is not null && Interlocked.CompareExchange(ref items[i], null, item) == item)
            {
                return item;
            }
        }

        return null;
    }

    public void Return(T item)
    {
        if (_fast is null && Interlocked.CompareExchange(ref _fast, item, null) is null)
        {
            return;
        }

        T?[] items = _items;
        for (int i = 0; i < items.Length && Interlocked.CompareExchange(ref items[i], item, null) is not null; i++)
        {
        }
    }
}
