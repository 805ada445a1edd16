namespace Tinybatch.Internal;

/// <summary>
/// Adds waiting for a place in a full buffer (<see cref="OverflowPolicy.Wait"/>), in arrival order. A waiter that is
/// cancelled leaves the list at once, so memory follows the live waiters only. A released place wakes the oldest
/// waiter, which then tries to take a place again; nothing runs under the lock but list bookkeeping, and every waiter
/// continues asynchronously.
/// </summary>
internal sealed class SpaceWaiters
{
    private readonly object _lock = new();
    private Waiter? _first;
    private Waiter? _last;
    private int _count;

    /// <summary>The lock of the waiter list, for tests that check no user code runs under it.</summary>
    internal object Lock => _lock;

    /// <summary>Gets the number of waiting adds.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// Registers a waiter. The caller must check for space again after this call: a place released in between either
    /// was seen by that check or wakes this waiter.
    /// </summary>
    /// <returns>The waiter, or <see langword="null"/> when <paramref name="isClosed"/> says the batcher no longer accepts jobs.</returns>
    public Waiter? Register(Func<object?, bool> isClosed, object? state, CancellationToken cancellationToken)
    {
        var waiter = new Waiter(this);
        lock (_lock)
        {
            if (isClosed(state))
            {
                return null;
            }

            waiter.Previous = _last;
            if (_last is null)
            {
                _first = waiter;
            }
            else
            {
                _last.Next = waiter;
            }

            _last = waiter;
            waiter.Listed = true;
            Volatile.Write(ref _count, _count + 1);
        }

        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.UnsafeRegister(static (s, t) => ((Waiter)s!).Cancel(t), waiter);
        }

        return waiter;
    }

    /// <summary>Wakes up to <paramref name="places"/> of the oldest waiters, after that many places were released.</summary>
    public void Wake(long places)
    {
        if (Volatile.Read(ref _count) == 0 || places <= 0)
        {
            return;
        }

        Waiter? woken = null;
        lock (_lock)
        {
            // Unlinked in order and chained through Next, so they can be completed outside the lock.
            Waiter? tail = null;
            while (places-- > 0 && _first is { } waiter)
            {
                Unlink(waiter);
                if (tail is null)
                {
                    woken = waiter;
                }
                else
                {
                    tail.Next = waiter;
                }

                tail = waiter;
            }
        }

        while (woken is not null)
        {
            Waiter next = woken.Next!;
            woken.Next = null;
            woken.Completion.TrySetResult(true);
            woken = next;
        }
    }

    /// <summary>Fails every waiter (the batcher is stopping); returns how many were failed by this call.</summary>
    public int FailAll(Func<Exception> exception)
    {
        List<Waiter> failed = [];
        lock (_lock)
        {
            while (_first is { } waiter)
            {
                Unlink(waiter);
                failed.Add(waiter);
            }
        }

        int count = 0;
        foreach (Waiter waiter in failed)
        {
            if (waiter.Completion.TrySetException(exception()))
            {
                count++;
            }
        }

        return count;
    }

    private void Unlink(Waiter waiter)
    {
        if (!waiter.Listed)
        {
            return;
        }

        if (waiter.Previous is null)
        {
            _first = waiter.Next;
        }
        else
        {
            waiter.Previous.Next = waiter.Next;
        }

        if (waiter.Next is null)
        {
            _last = waiter.Previous;
        }
        else
        {
            waiter.Next.Previous = waiter.Previous;
        }

        waiter.Previous = null;
        waiter.Next = null;
        waiter.Listed = false;
        Volatile.Write(ref _count, _count - 1);
    }

    /// <summary>One waiting add: completes with <see langword="true"/> when woken, or fails (stop) or is cancelled.</summary>
    internal sealed class Waiter(SpaceWaiters owner)
    {
        public TaskCompletionSource<bool> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Waiter? Previous { get; set; }

        public Waiter? Next { get; set; }

        public bool Listed { get; set; }

        public CancellationTokenRegistration Registration { get; set; }

        /// <summary>Leaves the list; the waiter is done (woken, failed or cancelled).</summary>
        public void Leave()
        {
            Registration.Dispose();
            lock (owner._lock)
            {
                owner.Unlink(this);
            }
        }

        internal void Cancel(CancellationToken token)
        {
            lock (owner._lock)
            {
                owner.Unlink(this);
            }

            Completion.TrySetCanceled(token);
        }
    }
}
