namespace Tinybatch.EventStream;

/// <summary>The batcher's settings for one run.</summary>
/// <param name="BatchSize">MaxBatchSize: events per transaction at most.</param>
/// <param name="Delay">MaxBatchDelay: how long the first event of a batch waits for more.</param>
/// <param name="Capacity">Capacity: events buffered before producers wait.</param>
/// <param name="Concurrency">MaxConcurrentBatches wanted (capped by the sink: SQLite has one writer).</param>
internal sealed record RunSettings(int BatchSize, TimeSpan Delay, int Capacity, int Concurrency)
{
    /// <summary>
    /// The demo's defaults; see the README section "The main job" for the measurements behind them. The producers outrun any
    /// store, so the buffer stays full and an event waits about Capacity / throughput before its batch: a buffer of
    /// 4 batches keeps the writer fed and that wait short.
    /// </summary>
    public static RunSettings Default { get; } = new(BatchSize: 1000, Delay: TimeSpan.FromMilliseconds(50), Capacity: 4000, Concurrency: 2);
}
