using System.Threading.Tasks.Sources;

namespace Tinybatch.Internal;

/// <summary>
/// A reusable, allocation-free wake-up for a single waiter (the dispatch loop). The caller guarantees that
/// <see cref="Set"/> is called at most once per <see cref="WaitAsync"/>: the batcher's sleeping flag hands out
/// that right to exactly one waker.
/// </summary>
/// <remarks>
/// The loop continues synchronously on the thread that wakes it, until it next sleeps: a thread-pool hop costs a
/// worker wake-up (about 100 µs on an idle virtual machine), while the loop runs no user code and holds no lock, so
/// the waker only lends its thread for the loop's bookkeeping (cutting a batch and queueing it to the pool).
/// </remarks>
internal sealed class AsyncSignal : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = false };
    private int _parked;

    /// <summary>Gets a value indicating whether the waiter is parked: its continuation registered, no signal yet.</summary>
    public bool IsParked => Volatile.Read(ref _parked) != 0;

    public ValueTask WaitAsync() => new(this, _core.Version);

    public void Set()
    {
        Volatile.Write(ref _parked, 0);
        _core.SetResult(true);
    }

    public void GetResult(short token)
    {
        _core.GetResult(token);
        _core.Reset();
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        Volatile.Write(ref _parked, 1);
        _core.OnCompleted(continuation, state, token, flags);
    }
}
