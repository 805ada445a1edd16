using Microsoft.Extensions.Logging;

namespace Tinybatch.Extensions.Hosting.Internal;

/// <summary>The source-generated log messages: none is written per job.</summary>
internal static partial class BatcherLog
{
    [LoggerMessage(EventId = 1, EventName = "BatchHandlerFailed", Level = LogLevel.Error,
        Message = "Batcher '{BatcherName}': the handler of batch {BatchId} threw; its {JobCount} jobs without an outcome failed.")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string batcherName, long batchId, int jobCount);

    [LoggerMessage(EventId = 2, EventName = "JobsDeadLettered", Level = LogLevel.Warning,
        Message = "Batcher '{BatcherName}': {JobCount} jobs dead-lettered as {Reason} since the last report; the first one's exception is attached.")]
    public static partial void DeadLettered(ILogger logger, Exception? exception, string batcherName, long jobCount, DeadLetterReason reason);

    [LoggerMessage(EventId = 3, EventName = "ShutdownTimedOut", Level = LogLevel.Error,
        Message = "Batcher '{BatcherName}' did not drain before the host's shutdown timeout: {JobCount} jobs failed with BatcherStoppedException after {ElapsedMs} ms.")]
    public static partial void ShutdownTimedOut(ILogger logger, string batcherName, long jobCount, long elapsedMs);

    [LoggerMessage(EventId = 4, EventName = "Drained", Level = LogLevel.Information,
        Message = "Batcher '{BatcherName}' drained and stopped in {ElapsedMs} ms: {Succeeded} jobs succeeded, {Failed} failed, {Dropped} dropped, {Rejected} rejected in its lifetime.")]
    public static partial void Drained(ILogger logger, string batcherName, long elapsedMs, long succeeded, long failed, long dropped, long rejected);

    [LoggerMessage(EventId = 5, EventName = "Draining", Level = LogLevel.Debug,
        Message = "Batcher '{BatcherName}' stopping: draining {Pending} pending and {InFlight} in-flight jobs.")]
    public static partial void Draining(ILogger logger, string batcherName, long pending, long inFlight);

    [LoggerMessage(EventId = 6, EventName = "Started", Level = LogLevel.Debug,
        Message = "Batcher '{BatcherName}' started.")]
    public static partial void Started(ILogger logger, string batcherName);
}
