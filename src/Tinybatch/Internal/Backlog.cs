namespace Tinybatch.Internal;

/// <summary>
/// The consumer side's own queue: jobs moved out of the intake ring when it fills up behind a slow or stalled handler.
/// A growable circular array (a power of two, indexed by mask), used only under the intake's consumer lock.
/// </summary>
/// <remarks>
/// Memory follows the recent peak, not every cycle: a producer that outruns the consumer fills and empties the backlog
/// over and over, and an array given up at each emptying would be allocated again at each filling (tens of bytes per
/// job). So when it empties, an array of up to <see cref="RetainedCapacity"/> jobs (a default <c>Capacity</c> fits) shrinks
/// only if the peak since the last emptying used under a quarter of it, and then to that peak; a larger one, left by a
/// long stall, is given up.
/// </remarks>
internal sealed class Backlog<TJob>
{
    private const int MinCapacity = 16;
    private const int MaxCapacity = 1 << 30;
    private const int RetainedCapacity = 16_384;
    private QueuedJob<TJob>[] _items = [];
    private int _head;
    private int _count;
    private int _peak;

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
        if (_count > _peak)
        {
            _peak = _count;
        }
    }

    public void Dequeue()
    {
        _items[_head] = default;
        _head = (_head + 1) & (_items.Length - 1);
        _count--;
        if (_count == 0)
        {
            OnEmptied();
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
        if (_count == 0 && _items.Length > 0)
        {
            OnEmptied();
        }

        return removed;
    }

    private void OnEmptied()
    {
        _head = 0;
        if (_items.Length > RetainedCapacity)
        {
            _items = [];
        }
        else if (_items.Length > MinCapacity && _peak < _items.Length / 4)
        {
            _items = _peak == 0 ? [] : new QueuedJob<TJob>[Math.Max(MinCapacity, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)_peak))];
        }

        _peak = 0;
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
