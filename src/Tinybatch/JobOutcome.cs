using System.Diagnostics;

namespace Tinybatch;

/// <summary>The outcome of one job of a batch: a result, an exception, or a request to retry.</summary>
/// <typeparam name="TResult">The result type.</typeparam>
[DebuggerDisplay("{Status}")]
public readonly struct JobOutcome<TResult>
{
    internal JobOutcome(JobStatus status, TResult? result, Exception? exception)
    {
        Status = status;
        Result = result;
        Exception = exception;
    }

    /// <summary>Gets the status of the job.</summary>
    public JobStatus Status { get; }

    /// <summary>Gets the result when <see cref="Status"/> is <see cref="JobStatus.Succeeded"/>; otherwise the default value.</summary>
    public TResult? Result { get; }

    /// <summary>Gets the exception when <see cref="Status"/> is <see cref="JobStatus.Failed"/>, or the reason of a retry.</summary>
    public Exception? Exception { get; }
}
