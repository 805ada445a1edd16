namespace Tinybatch.Internal;

/// <summary>
/// What a retried job carries back into the queue: its attempts so far, the position of its first add (flushes issued
/// before it wait for its final outcome), and the state it had (its awaiter's completion or its trace link).
/// </summary>
internal sealed class RetryTicket : IDroppableState, ILinkedState
{
    private readonly Action<RetryTicket> _onDropped;
    private int _canceled;

    public RetryTicket(object? inner, int attempts, long origin, Action<RetryTicket> onDropped)
    {
        Inner = inner;
        Attempts = attempts;
        Origin = origin;
        _onDropped = onDropped;
    }

    /// <summary>The awaiter's completion, a boxed activity context, or null.</summary>
    public object? Inner { get; }

    public int Attempts { get; }

    public long Origin { get; }

    /// <summary>Whether the caller cancelled while the job was back in the queue.</summary>
    public bool IsDropped => Inner is IDroppableState { IsDropped: true };

    public object? Link => Inner is ILinkedState linked ? linked.Link : Inner;

    /// <summary>
    /// The caller cancelled while the job was back in the queue: that is its final outcome, so the scheduler stops
    /// counting it as unfinished. Told at the cancellation; the intake skipping the entry later (<see cref="Drop"/>)
    /// finds it told, so the job is counted finished once.
    /// </summary>
    public void OnCanceled()
    {
        if (Interlocked.Exchange(ref _canceled, 1) == 0)
        {
            _onDropped(this);
        }
    }

    public void Drop()
    {
        (Inner as IDroppableState)?.Drop();
        OnCanceled();
    }
}
