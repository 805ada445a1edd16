namespace Tinybatch.Internal;

/// <summary>
/// One place of the intake ring. <see cref="Sequence"/> says whose turn it is (Vyukov's bounded queue): equal to a
/// position <c>p</c>, the slot is free for the producer that claimed <c>p</c>; equal to <c>p + 1</c>, it holds that
/// producer's job; the consumer frees it for <c>p + ring size</c>.
/// </summary>
internal struct IntakeSlot<TJob>
{
    public long Sequence;
    public TJob Job;
    public object? State;
    public long Stamp;
    public long Weight;
}

/// <summary>One queued job as the consumer side of the intake sees it.</summary>
internal struct QueuedJob<TJob>
{
    /// <summary>The job's position in the intake: the order of its add (or of its re-entry for a retry).</summary>
    public long Position;
    public TJob Job;

    /// <summary>Null, the awaiter's completion, a <see cref="RetryTicket"/>, or a boxed activity context (see <see cref="JobEntry{TJob}"/>).</summary>
    public object? State;
    public long Stamp;
    public long Weight;
}

/// <summary>
/// A state the intake can drop without handing it to a batch: a job whose caller cancelled while it was queued, or a
/// place whose add was refused after it was claimed.
/// </summary>
internal interface IDroppableState
{
    /// <summary>Gets a value indicating whether the job is gone: skip it, and call <see cref="Drop"/>.</summary>
    bool IsDropped { get; }

    /// <summary>The intake lets go of the dropped job.</summary>
    void Drop();
}

/// <summary>The state of a claimed place whose add was refused (a stop raced it): nothing to dispatch.</summary>
internal sealed class RefusedPlace : IDroppableState
{
    public static readonly RefusedPlace Instance = new();

    public bool IsDropped => true;

    public void Drop()
    {
    }
}
