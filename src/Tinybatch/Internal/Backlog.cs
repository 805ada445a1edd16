namespace Tinybatch.Internal;

/// <summary>
/// The consumer side's own queue: jobs moved out of the intake ring when it fills up behind a slow or stalled handler.
/// A growable circular array (a power of two, indexed by mask), used only under the intake's consumer lock.
/// </summary>
/// <remarks>
/// Memory follows the recent peak, not every cycle: a producer that outruns the consumer fills and empties the backlog
/// over and over, and an array given up at each emptying would be allocated again at each filling (tens of bytes per
/// job), and one shrunk to a cycle's smaller peak would grow again at the next larger one. So it keeps its array while
/// in use, and the dispatch loop gives it up (<see cref="Trim"/>) when it finds nothing queued twice in a row with the
/// backlog unused in between: the overload is over.
/// </remarks>
internal sealed class Backlog<TJob>
{
    private const int MinCapacity = 16;
    private const int MaxCapacity = 1 << 30;
    private QueuedJob<TJob>[] _items = [];
    private int _head;
    private int _count;
    private bool _usedSinceTrim;

    public int Count => _count;

    /// <summary>Gets the length of the array, for tests.</summary>
    internal int ArrayLength => _items.Length;

    public ref QueuedJob<TJob> Peek() => ref _items[_head];

    public void Enqueue(in QueuedJob<TJob> item)
    {
        if (_count == _items.Length)
        {
            Grow();
        }

        _items[(_head + _count) & (_items.Length - 1)] = item;
        _count++;
        _usedSinceTrim = true;
    }

    public void Dequeue()
    {
        _items[_head] = default;
        _head = (_head + 1) & (_items.Length - 1);
        _count--;
        if (_count == 0)
        {
            _head = 0;
        }
    }

    /// <summary>Removes, in place and in order, every item <paramref name="drop"/> says is gone; returns how many.</summary>
    public int RemoveWhere(Func<QueuedJob<TJob>, bool> drop)
    {
        int mask = _items.Length - 1;
        int kept = 0;
        int removed = 0;
        for (int i = 0; i < _count; i++)
        {
            ref QueuedJob<TJob> item = ref _items[(_head + i) & mask];
            if (drop(item))
            {
                removed++;
            }
            else
            {
                _items[(_head + kept) & mask] = item;
                kept++;
            }
        }

        for (int i = kept; i < _count; i++)
        {
            _items[(_head + i) & mask] = default;
        }

        _count = kept;
        if (_count == 0)
        {
            _head = 0;
        }

        return removed;
    }

    /// <summary>
    /// Called when the consumer finds no work: gives the array up if nothing is queued and nothing was since the last call,
    /// so a steady overload, which empties the backlog between fillings, keeps it.
    /// </summary>
    public void Trim()
    {
        if (_count == 0 && !_usedSinceTrim)
        {
            _items = [];
            _head = 0;
        }

        _usedSinceTrim = false;
    }

    private void Grow()
    {
        if (_items.Length == MaxCapacity)
        {
            throw new InvalidOperationException($"More than {MaxCapacity} jobs are queued behind the handler.");
        }

        int size = Math.Max(MinCapacity, _items.Length * 2);
        var bigger = new QueuedJob<TJob>[size];
        int mask = _items.Length - 1;
        for (int i = 0; i < _count; i++)
        {
            bigger[i] = _items[(_head + i) & mask];
        }

        _items = bigger;
        _head = 0;
    }
}
