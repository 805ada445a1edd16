namespace Tinybatch.Durable.Internal;

/// <summary>A job found in the journal without a final outcome, as recovery hands it back.</summary>
internal readonly record struct RecoveredJob(long SequenceId, int Attempts, byte[] Payload);
