namespace Tinybatch.Durable.Internal;

/// <summary>What the in-memory batcher carries for a journalled job.</summary>
/// <param name="SequenceId">The job's sequence id.</param>
/// <param name="Job">The job.</param>
/// <param name="PriorAttempts">Handler calls that saw the job in earlier runs.</param>
/// <param name="Bytes">The size of its journal record: its weight against the journal's byte capacity.</param>
/// <param name="Recovered">Whether the job was found in the journal at start (rather than added in this run).</param>
internal readonly record struct Journalled<TJob>(long SequenceId, TJob Job, int PriorAttempts, int Bytes, bool Recovered = false);
