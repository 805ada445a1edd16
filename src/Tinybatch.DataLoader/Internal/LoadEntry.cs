namespace Tinybatch.Loading.Internal;

/// <summary>
/// One key being loaded: the job the batcher carries, and the outcome every caller of that key shares. Its mutable
/// fields are guarded by the loader's lock.
/// </summary>
internal sealed class LoadEntry<TKey, TValue>(TKey key)
{
    private readonly TaskCompletionSource<TValue> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TKey Key { get; } = key;

    /// <summary>
    /// The token of the key's job in the batcher, cancelled when its last caller leaves before dispatch: the batcher
    /// then removes the job from its batch. It is never disposed: without a timer it holds no resources.
    /// </summary>
    public CancellationTokenSource Cancellation { get; } = new();

    public Task<TValue> Task => _completion.Task;

    /// <summary>Callers still waiting (or unable to cancel) for this key.</summary>
    public int Waiters { get; set; }

    /// <summary>Set by the fetch handler, under the lock, just before the fetch is called: callers can no longer drop the key.</summary>
    public bool Dispatched { get; set; }

    /// <summary>Set when every caller left before dispatch: the key must not be fetched.</summary>
    public bool Abandoned { get; set; }

    /// <summary>Set by Clear while the fetch runs: its value must not be cached, as it may predate the Clear.</summary>
    public bool Detached { get; set; }

    public void SetResult(TValue value) => _completion.TrySetResult(value);

    public void SetException(Exception exception) => _completion.TrySetException(exception);

    public void SetCanceled(CancellationToken token) => _completion.TrySetCanceled(token);
}
