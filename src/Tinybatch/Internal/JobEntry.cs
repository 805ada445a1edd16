namespace Tinybatch.Internal;

/// <summary>
/// One job in a dispatched batch. It is copied by value, so it is kept small, with a single reference field besides the
/// job: every reference field costs a write barrier on each copy.
/// </summary>
internal struct JobEntry<TJob>
{
    /// <summary>The <see cref="Stamp"/> of a job added while nothing needed its add time.</summary>
    public const long NotStamped = long.MinValue;

    public TJob Job;

    /// <summary>
    /// Null for a plain fire-and-forget job; otherwise the awaiter's completion (an <see cref="ILinkedState"/>) or the
    /// boxed <see cref="System.Diagnostics.ActivityContext"/> of a fire-and-forget job added while tracing listened.
    /// </summary>
    public object? State;

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> of the add (or of the re-entry), or <see cref="NotStamped"/>.</summary>
    public long Stamp;

    public long Weight;

    /// <summary>The intake position of the job's first add: flushes issued after it do not wait for it.</summary>
    public long Origin;

    /// <summary>How many times a handler has seen this job, this batch included once it is dispatched.</summary>
    public int Attempts;

    /// <summary>Whether the job came back for a retry, so the retry scheduler tracks its origin until its final outcome.</summary>
    public bool Reentered;

    /// <summary>The boxed activity context to link the job's batch to, if any.</summary>
    public readonly object? Link => State is ILinkedState linked ? linked.Link : State;
}

/// <summary>A job state object that carries the activity context of its add, for trace links.</summary>
internal interface ILinkedState
{
    object? Link { get; }
}
