namespace Tinybatch.Internal;

/// <summary>
/// The consumer side's own queue: jobs moved out of the intake ring when it fills up behind a slow or stalled handler.
/// A growable circular array, used only under the intake's consumer lock. It grows on demand and shrinks back when
/// it empties, so its memory follows the jobs actually waiting.
/// </summary>
internal sealed class Backlog<TJob>
{
    private const int MinCapacity = 16;
    private QueuedJob<TJob>[] _items = [];
    private int _head;
    private int _count;

    public int Count => _count;

    public ref QueuedJob<TJob> Peek() => ref _items[_head];

    public void Enqueue(in QueuedJob<TJob> item)
    {
        if (_count == _items.Length)
        {
            Grow();
        }

        _items[(_head + _count) % _items.Length] = item;
        _count++;
    }

    public void Dequeue()
    {
        _items[_head] = default;
        _head = _head + 1 == _items.Length ? 0 : _head + 1;
        _count--;
        if (_count == 0)
        {
            _head = 0;
            if (_items.Length > 1024)
            {
                _items = [];
            }
        }
    }

    /// <summary>Removes, in place and in order, every item <paramref name="drop"/> says is gone; returns how many.</summary>
    public int RemoveWhere(Func<QueuedJob<TJob>, bool> drop)
    {
        int kept = 0;
        int removed = 0;
        for (int i = 0; i < _count; i++)
        {
            ref QueuedJob<TJob> item = ref _items[(_head + i) % _items.Length];
            if (drop(item))
            {
                removed++;
            }
            else
            {
                _items[(_head + kept) % _items.Length] = item;
                kept++;
            }
        }

        for (int i = kept; i < _count; i++)
        {
            _items[(_head + i) % _items.Length] = default;
        }

        _count = kept;
        return removed;
    }

    private void Grow()
    {
        int size = _items.Length >= Array.MaxLength / 2 ? Array.MaxLength : Math.Max(MinCapacity, _items.Length * 2);
        var bigger = new QueuedJob<TJob>[size];
        for (int i = 0; i < _count; i++)
        {
            bigger[i] = _items[(_head + i) % _items.Length];
        }

        _items = bigger;
        _head = 0;
    }
}
