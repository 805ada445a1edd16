using System.Diagnostics;
using HdrHistogram;

namespace Tinybatch.EventStream;

/// <summary>
/// Records each event's latency from add to commit in an HDR histogram (fixed memory, whatever the event count),
/// in microseconds, up to one hour.
/// </summary>
internal sealed class LatencyRecorder
{
    private const long MaxMicroseconds = 3_600_000_000;
    private readonly LongHistogram _histogram = new(1, MaxMicroseconds, 3);
    private readonly object _lock = new();

    /// <summary>Records every event of a batch whose transaction committed at <paramref name="committedTimestamp"/>.</summary>
    /// <param name="events">The batch.</param>
    /// <param name="committedTimestamp">A <see cref="Stopwatch.GetTimestamp"/> taken right after the commit.</param>
    public void RecordBatch(IReadOnlyList<StreamEvent> events, long committedTimestamp)
    {
        // One lock per batch, not per event: batches of PostgreSQL may commit concurrently.
        lock (_lock)
        {
            for (int i = 0; i < events.Count; i++)
            {
                long micros = (committedTimestamp - events[i].AddedTimestamp) * 1_000_000 / Stopwatch.Frequency;
                _histogram.RecordValue(Math.Clamp(micros, 1, MaxMicroseconds));
            }
        }
    }

    /// <summary>Gets the latency at a percentile, in milliseconds (0 when nothing was recorded).</summary>
    /// <param name="percentile">The percentile, 0 to 100.</param>
    /// <returns>The latency in milliseconds.</returns>
    public double PercentileMs(double percentile)
    {
        lock (_lock)
        {
            return _histogram.TotalCount == 0 ? 0 : _histogram.GetValueAtPercentile(percentile) / 1000.0;
        }
    }
}
