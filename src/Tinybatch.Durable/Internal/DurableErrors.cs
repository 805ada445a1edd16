namespace Tinybatch.Durable.Internal;

/// <summary>The exceptions the durable intake creates, with messages that name the problem.</summary>
internal static class DurableErrors
{
    public static InvalidOperationException AttemptsExhausted(long sequenceId, int attempts, Exception? reason) =>
        new($"Job {sequenceId} has used {attempts} attempts, counting those of earlier runs (a job that stops the process while it is handled is counted too); it is not retried again.", reason);
}
