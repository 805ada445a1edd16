namespace Tinybatch.Internal;

/// <summary>A flush request: a marker in the queue, completed once every batch before it has finished.</summary>
internal sealed class FlushWaiter
{
    public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The id of the last batch that holds a job added before the flush.</summary>
    public long WaitForBatchId { get; set; }
}
