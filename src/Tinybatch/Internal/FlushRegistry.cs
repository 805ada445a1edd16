namespace Tinybatch.Internal;

/// <summary>
/// The pending flushes: each waits until every job added before it (its intake position) has its final outcome. A
/// flush whose caller cancels leaves at once, so memory follows the live flushes only.
/// </summary>
internal sealed class FlushRegistry
{
    private readonly object _lock = new();
    private readonly LinkedList<FlushWaiter> _waiters = new();
    private long _maxPosition;
    private int _count;

    /// <summary>The lock of the flush list, for tests that check no user code runs under it.</summary>
    internal object Lock => _lock;

    /// <summary>Gets the number of pending flushes.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>Gets a value indicating whether a flush is pending.</summary>
    public bool HasWaiters => Volatile.Read(ref _count) != 0;

    /// <summary>
    /// Gets the highest position a pending flush waits for: every job before it must be dispatched without waiting for
    /// the delay. Zero when none is pending.
    /// </summary>
    public long MaxPosition => Volatile.Read(ref _maxPosition);

    /// <summary>
    /// Gets the position of the nearest pending flush after <paramref name="position"/>, or <see cref="long.MaxValue"/>:
    /// a flush ends the batch it releases, so jobs added after it are not dispatched early because of it.
    /// </summary>
    public long FirstPositionAbove(long position)
    {
        long first = long.MaxValue;
        lock (_lock)
        {
            foreach (FlushWaiter waiter in _waiters)
            {
                if (waiter.Position > position && waiter.Position < first)
                {
                    first = waiter.Position;
                }
            }
        }

        return first;
    }

    /// <summary>Registers a flush that waits for every job before <paramref name="position"/>.</summary>
    public Task Add(long position, CancellationToken cancellationToken)
    {
        var waiter = new FlushWaiter(position);
        lock (_lock)
        {
            waiter.Node = _waiters.AddLast(waiter);
            Volatile.Write(ref _count, _waiters.Count);
            if (position > _maxPosition)
            {
                Volatile.Write(ref _maxPosition, position);
            }
        }

        if (cancellationToken.CanBeCanceled)
        {
            waiter.Owner = this;
            waiter.Registration = cancellationToken.UnsafeRegister(static (s, t) => ((FlushWaiter)s!).Owner!.Cancel((FlushWaiter)s, t), waiter);
        }

        return waiter.Completion.Task;
    }

    /// <summary>Completes every flush whose earlier jobs all have their outcomes: those at or below <paramref name="doneBefore"/>.</summary>
    public void CompleteThrough(long doneBefore)
    {
        List<FlushWaiter>? done = null;
        lock (_lock)
        {
            long max = 0;
            for (LinkedListNode<FlushWaiter>? node = _waiters.First; node is not null;)
            {
                LinkedListNode<FlushWaiter>? next = node.Next;
                if (node.Value.Position <= doneBefore)
                {
                    _waiters.Remove(node);
                    node.Value.Node = null;
                    (done ??= []).Add(node.Value);
                }
                else
                {
                    max = Math.Max(max, node.Value.Position);
                }

                node = next;
            }

            Volatile.Write(ref _maxPosition, max);
            Volatile.Write(ref _count, _waiters.Count);
        }

        if (done is not null)
        {
            foreach (FlushWaiter waiter in done)
            {
                waiter.Registration.Dispose();
                waiter.Completion.TrySetResult();
            }
        }
    }

    /// <summary>Completes every pending flush (the batcher has stopped: every job has its outcome).</summary>
    public void CompleteAll() => CompleteThrough(long.MaxValue);

    private void Cancel(FlushWaiter waiter, CancellationToken token)
    {
        lock (_lock)
        {
            if (waiter.Node is { } node)
            {
                _waiters.Remove(node);
                waiter.Node = null;
                Volatile.Write(ref _count, _waiters.Count);
            }
        }

        waiter.Completion.TrySetCanceled(token);
    }

    /// <summary>One pending flush.</summary>
    private sealed class FlushWaiter(long position)
    {
        public long Position { get; } = position;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<FlushWaiter>? Node { get; set; }

        public FlushRegistry? Owner { get; set; }

        public CancellationTokenRegistration Registration { get; set; }
    }
}
