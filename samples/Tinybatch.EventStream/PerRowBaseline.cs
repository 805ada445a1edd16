using System.Diagnostics;
using System.Globalization;

namespace Tinybatch.EventStream;

/// <summary>
/// The comparison of <c>--compare</c>: the same events, written with no batcher, one INSERT per event, each in its
/// own transaction, from one loop: what code without batching does.
/// </summary>
internal static class PerRowBaseline
{
    /// <summary>Writes events one by one into a fresh table of <paramref name="sink"/>.</summary>
    /// <param name="events">The same events the batched run wrote, in id order.</param>
    /// <param name="total">How many events the batched run wrote.</param>
    /// <param name="maxEvents">The most events to write.</param>
    /// <param name="budget">The time budget: the loop stops once it is spent.</param>
    /// <param name="sink">The store (a separate table or database from the batched run's).</param>
    /// <param name="stop">Stops the loop (Ctrl+C).</param>
    /// <returns>The result, counted back from the store.</returns>
    public static async Task<BaselineResult> RunAsync(
        IEnumerable<StreamEvent> events,
        long total,
        long maxEvents,
        TimeSpan budget,
        IEventSink sink,
        CancellationToken stop)
    {
        await sink.InitializeAsync(CancellationToken.None);
        long limit = Math.Min(total, maxEvents);
        long written = 0;
        string? stoppedEarly = null;
        var clock = Stopwatch.StartNew();
        foreach (StreamEvent evt in events)
        {
            if (written >= limit)
            {
                break;
            }

            if (stop.IsCancellationRequested)
            {
                stoppedEarly = "stopped by Ctrl+C";
                break;
            }

            if (clock.Elapsed >= budget)
            {
                stoppedEarly = string.Create(CultureInfo.InvariantCulture, $"time budget of {budget.TotalSeconds:F0} s spent");
                break;
            }

            await sink.WriteOneAsync(evt, CancellationToken.None);
            written++;
        }

        clock.Stop();
        if (stoppedEarly is null && written < total)
        {
            stoppedEarly = string.Create(CultureInfo.InvariantCulture, $"capped at --baseline-events {maxEvents:N0}");
        }

        long rows = await sink.CountAsync(CancellationToken.None);
        return new BaselineResult(written, rows, clock.Elapsed, stoppedEarly);
    }
}
