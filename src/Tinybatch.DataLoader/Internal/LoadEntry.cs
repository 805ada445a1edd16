using System.Diagnostics.CodeAnalysis;

namespace Tinybatch.Loading.Internal;

/// <summary>
/// One key being loaded: the job the batcher carries, and the outcome every caller of that key shares. Its mutable
/// fields are guarded by the loader's lock, except <see cref="Missing"/>, written by the fetch before the job's outcome.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TStored">What a key loads to: the value, or the list of values of a grouped loader.</typeparam>
[SuppressMessage("Design", "CA1001", Justification = "The token source has no timer: there is nothing to release, and callers may still register on its token.")]
internal sealed class LoadEntry<TKey, TStored>
{
    private readonly TaskCompletionSource<TStored> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource? _cancellation;

    /// <summary>Creates the entry of a key to fetch.</summary>
    public LoadEntry(TKey key)
    {
        Key = key;
        _cancellation = new CancellationTokenSource();
    }

    private LoadEntry(TKey key, TStored value)
    {
        Key = key;
        _completion.SetResult(value);
    }

    public TKey Key { get; }

    /// <summary>
    /// Cancelled when the key's last caller leaves before dispatch: the batcher then removes the job from its batch. It
    /// is never disposed: without a timer it holds no resources. None for a primed entry, which is never fetched.
    /// </summary>
    public CancellationToken Token => _cancellation?.Token ?? CancellationToken.None;

    public bool IsCancellationRequested => _cancellation?.IsCancellationRequested ?? false;

    public Task<TStored> Task => _completion.Task;

    /// <summary>Callers still waiting (or unable to cancel) for this key.</summary>
    public int Waiters { get; set; }

    /// <summary>Set by the fetch handler, under the lock, just before the fetch is called: callers can no longer drop the key.</summary>
    public bool Dispatched { get; set; }

    /// <summary>Set when every caller left before dispatch: the key must not be fetched.</summary>
    public bool Abandoned { get; set; }

    /// <summary>Set by Clear while the fetch runs: its value must not be cached, as it may predate the Clear.</summary>
    public bool Detached { get; set; }

    /// <summary>Set by the fetch when its answer has no entry for the key: the task then fails with a KeyNotFoundException.</summary>
    public bool Missing { get; set; }

    /// <summary>Creates an entry that already holds its value (<c>Prime</c>).</summary>
    public static LoadEntry<TKey, TStored> Completed(TKey key, TStored value) => new(key, value);

    public void Cancel() => _cancellation?.Cancel();

    public void SetResult(TStored value) => _completion.TrySetResult(value);

    /// <summary>
    /// Fails the key. The shared task is marked observed at once: the callers that await it still get the exception,
    /// and a key whose callers all left does not raise <see cref="TaskScheduler.UnobservedTaskException"/>.
    /// </summary>
    public void SetException(IEnumerable<Exception> exceptions)
    {
        if (_completion.TrySetException(exceptions))
        {
            _ = _completion.Task.Exception;
        }
    }

    public void SetException(Exception exception) => SetException([exception]);

    public void SetCanceled(CancellationToken token) => _completion.TrySetCanceled(token);
}
