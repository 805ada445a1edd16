using System.Diagnostics;

namespace Tinybatch.Durable;

/// <summary>A journalled job as a handler sees it: its stable sequence id, the job, and which attempt this is.</summary>
/// <typeparam name="TJob">The job type.</typeparam>
[DebuggerDisplay("#{SequenceId} attempt {Attempt}: {Job}")]
public readonly struct DurableJob<TJob>
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="sequenceId">The job's sequence id.</param>
    /// <param name="job">The job.</param>
    /// <param name="attempt">The attempt number.</param>
    public DurableJob(long sequenceId, TJob job, int attempt)
    {
        SequenceId = sequenceId;
        Job = job;
        Attempt = attempt;
    }

    /// <summary>
    /// Gets the job's sequence id: unique in its journal, given when the job was accepted and kept across restarts
    /// (a replayed job has the same id). Key an idempotent sink on it: an upsert, or an insert that ignores conflicts.
    /// </summary>
    public long SequenceId { get; }

    /// <summary>Gets the job.</summary>
    public TJob Job { get; }

    /// <summary>Gets the attempt number, counting the handler calls of earlier runs: 1 the first time any handler sees the job.</summary>
    public int Attempt { get; }
}
