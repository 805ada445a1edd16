namespace Tinybatch.Internal;

/// <summary>One accepted job as it travels from the queue into a batch. Kept small: it is copied by value.</summary>
internal struct JobEntry<TJob, TResult>
{
    public TJob Job;

    /// <summary>The awaiter's pooled completion, or null for a fire-and-forget job.</summary>
    public JobCompletion<TJob, TResult>? Completion;

    /// <summary>A flush marker instead of a job, when not null.</summary>
    public FlushWaiter? Flush;

    /// <summary>The boxed <see cref="System.Diagnostics.ActivityContext"/> current at add time, when tracing listens.</summary>
    public object? Link;

    public long Weight;

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> of the add.</summary>
    public long Timestamp;

    /// <summary>How many times a handler has already seen this job.</summary>
    public int Attempts;
}
