namespace Tinybatch;

/// <summary>Why a job ended in the dead-letter callback.</summary>
public enum DeadLetterReason
{
    /// <summary>The handler failed the job (or threw) and no retry was left.</summary>
    Failed = 0,

    /// <summary>The job was retried <see cref="RetryPolicy.MaxAttempts"/> times without success.</summary>
    RetriesExhausted = 1,

    /// <summary>The buffer was full and the policy is <see cref="OverflowPolicy.Reject"/>.</summary>
    Rejected = 2,

    /// <summary>The job was dropped by <see cref="OverflowPolicy.DropOldest"/> or <see cref="OverflowPolicy.DropWrite"/>.</summary>
    Dropped = 3,

    /// <summary>The stop deadline expired before the job had an outcome.</summary>
    Stopped = 4,

    /// <summary>The handler did not finish within <see cref="BatcherOptions.HandlerTimeout"/>.</summary>
    TimedOut = 5,
}
