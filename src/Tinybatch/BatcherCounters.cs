namespace Tinybatch;

/// <summary>
/// A snapshot of a batcher's counters. Every accepted job ends in exactly one outcome, so once the batcher is
/// drained <c>Accepted == Succeeded + Failed + Canceled + Dropped</c>.
/// </summary>
/// <param name="Accepted">Jobs accepted into the buffer.</param>
/// <param name="Succeeded">Jobs the handler completed with a result (the contract's "processed").</param>
/// <param name="Failed">Jobs that failed: handler exception, per-job failure, retries exhausted, timeout or stop deadline.</param>
/// <param name="Canceled">Jobs removed before dispatch by their caller's cancellation.</param>
/// <param name="Dropped">Accepted jobs evicted by <see cref="OverflowPolicy.DropOldest"/>.</param>
/// <param name="Rejected">Adds refused: buffer full (try-add, reject, drop-newest), job too heavy, or batcher stopped.</param>
/// <param name="Retried">Retry attempts scheduled.</param>
/// <param name="Pending">Accepted jobs not yet dispatched (the queue depth), retries waiting included.</param>
/// <param name="InFlight">Jobs in batches whose handler is running.</param>
/// <param name="Batches">Batches dispatched.</param>
/// <param name="CallbackFailures">Exceptions thrown by completion or dead-letter callbacks, or by the clock or a telemetry listener while a finished batch was recorded.</param>
public readonly record struct BatcherCounters(
    long Accepted,
    long Succeeded,
    long Failed,
    long Canceled,
    long Dropped,
    long Rejected,
    long Retried,
    long Pending,
    long InFlight,
    long Batches,
    long CallbackFailures)
{
    /// <summary>Gets the jobs that have an outcome: succeeded, failed, canceled or dropped.</summary>
    public long Completed => Succeeded + Failed + Canceled + Dropped;
}
