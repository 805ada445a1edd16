namespace Tinybatch;

/// <summary>Where a job was when it ended without success: whether its sink may already have it.</summary>
public enum JobStage
{
    /// <summary>Never accepted: refused or dropped while being added. No handler saw it.</summary>
    NotAccepted = 0,

    /// <summary>
    /// Accepted and waiting in the buffer for its batch. <see cref="DeadLetter{TJob}.Attempts"/> says whether an earlier
    /// handler call saw it (it came back for a retry) or none did.
    /// </summary>
    Queued = 1,

    /// <summary>Between two attempts: a handler call saw it and it waited for its retry (or for a paused dispatch).</summary>
    WaitingForRetry = 2,

    /// <summary>Inside a handler call that was abandoned (stop deadline or handler timeout): the sink may have stored it.</summary>
    InHandler = 3,

    /// <summary>Its handler call ended and reported it failed, or it used all its attempts.</summary>
    Completed = 4,
}
