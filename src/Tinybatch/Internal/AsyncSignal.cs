using System.Threading.Tasks.Sources;

namespace Tinybatch.Internal;

/// <summary>
/// A reusable, allocation-free wake-up for a single waiter (the dispatch loop). The caller guarantees that
/// <see cref="Set"/> is called at most once per <see cref="WaitAsync"/>: the batcher's sleeping flag hands out
/// that right to exactly one waker.
/// </summary>
internal sealed class AsyncSignal : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };

    public ValueTask WaitAsync() => new(this, _core.Version);

    public void Set() => _core.SetResult(true);

    public void GetResult(short token)
    {
        _core.GetResult(token);
        _core.Reset();
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
