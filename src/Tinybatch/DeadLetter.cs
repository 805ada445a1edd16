using System.Diagnostics;

namespace Tinybatch;

/// <summary>A job that ended without success, with the reason and the exception.</summary>
/// <typeparam name="TJob">The job type.</typeparam>
[DebuggerDisplay("{Reason}: {Exception.Message}")]
public readonly struct DeadLetter<TJob>
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="job">The job.</param>
    /// <param name="reason">Why it ended here.</param>
    /// <param name="exception">The exception its awaiter got, or would have got.</param>
    /// <param name="attempts">How many times the handler saw it.</param>
    /// <param name="stage">Where the job was when it ended.</param>
    public DeadLetter(TJob job, DeadLetterReason reason, Exception exception, int attempts, JobStage stage)
    {
        Stage = stage;
        Job = job;
        Reason = reason;
        Exception = exception;
        Attempts = attempts;
    }

    /// <summary>Gets the job.</summary>
    public TJob Job { get; }

    /// <summary>Gets why the job ended here.</summary>
    public DeadLetterReason Reason { get; }

    /// <summary>Gets the exception its awaiter got, or would have got.</summary>
    public Exception Exception { get; }

    /// <summary>
    /// Gets how many handler calls saw the job: 0 means it was never sent to the sink; 1 or more means the sink may
    /// have stored it, even if the call then failed or was abandoned (see <see cref="Stage"/>).
    /// </summary>
    public int Attempts { get; }

    /// <summary>Gets where the job was when it ended: never accepted, queued, between attempts, inside a handler call, or after one.</summary>
    public JobStage Stage { get; }
}
