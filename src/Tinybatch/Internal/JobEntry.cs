namespace Tinybatch.Internal;

/// <summary>
/// One accepted job as it travels from the queue into a batch. It is copied by value, so it is kept small, with a
/// single reference field besides the job: every reference field costs a write barrier on each copy.
/// </summary>
internal struct JobEntry<TJob>
{
    /// <summary>The <see cref="Timestamp"/> of a job added while nothing needed its add time.</summary>
    public const long NotStamped = long.MinValue;

    public TJob Job;

    /// <summary>
    /// Null for a plain fire-and-forget job; otherwise the awaiter's completion (an <see cref="ILinkedState"/>), a
    /// <see cref="FlushWaiter"/> (a flush marker instead of a job), or the boxed
    /// <see cref="System.Diagnostics.ActivityContext"/> of a fire-and-forget job added while tracing listened.
    /// </summary>
    public object? State;

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> of the add, or <see cref="NotStamped"/>.</summary>
    public long Timestamp;

    public long Weight;

    /// <summary>How many times a handler has already seen this job.</summary>
    public int Attempts;

    /// <summary>
    /// The id of the batch whose handler first asked to retry this job, or 0 while it never was: flushes issued before
    /// that batch wait for the job's final outcome.
    /// </summary>
    public long Origin;

    public readonly FlushWaiter? Flush => State as FlushWaiter;

    /// <summary>The boxed activity context to link the job's batch to, if any.</summary>
    public readonly object? Link => State switch
    {
        ILinkedState linked => linked.Link,
        FlushWaiter => null,
        _ => State,
    };
}

/// <summary>A job state object that carries the activity context of its add, for trace links.</summary>
internal interface ILinkedState
{
    object? Link { get; }
}
