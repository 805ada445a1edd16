namespace Tinybatch;

/// <summary>The outcome of one job within a batch.</summary>
public enum JobStatus
{
    /// <summary>The handler has not reported an outcome yet.</summary>
    Pending = 0,

    /// <summary>The job succeeded with a result.</summary>
    Succeeded = 1,

    /// <summary>The job failed with an exception.</summary>
    Failed = 2,

    /// <summary>The handler asked for the job to be retried in a later batch.</summary>
    Retry = 3,
}
