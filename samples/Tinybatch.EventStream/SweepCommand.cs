using System.Globalization;

namespace Tinybatch.EventStream;

/// <summary><c>--sweep</c>: the same stream at several batch sizes, a table of throughput and latency, and a PNG chart.</summary>
internal static class SweepCommand
{
    /// <summary>Runs the sweep.</summary>
    /// <param name="options">The demo's options.</param>
    /// <param name="sinks">Creates a fresh store per point.</param>
    /// <param name="output">Where the report goes.</param>
    /// <param name="stop">Ctrl+C: ends the sweep after the current point drains.</param>
    /// <returns>0 when every point verified; 1 otherwise.</returns>
    public static async Task<int> RunAsync(DemoOptions options, SinkFactory sinks, TextWriter output, CancellationToken stop)
    {
        var inv = CultureInfo.InvariantCulture;
        long events = options.Events ?? DemoOptions.DefaultSweepEvents;
        int[] sizes = options.SweepSizes.Order().ToArray();
        output.WriteLine(string.Create(inv, $"sweep: {events:N0} generated events per point from {options.Producers} producer(s) into {sinks.StoreName}, batch sizes {string.Join(", ", sizes)}, Capacity=4 x batch size, MaxBatchDelay={options.Settings.Delay.TotalMilliseconds:F0}ms"));

        var points = new List<SweepPoint>();
        foreach (int size in sizes)
        {
            if (stop.IsCancellationRequested)
            {
                break;
            }

            // A buffer of 4 batches at every size, as in the default run: a fixed buffer would make small batches look
            // slow twice, once in throughput and once more in the time events queue behind each other.
            RunSettings settings = options.Settings with { BatchSize = size, Capacity = 4 * size };
            RunResult result;
            string? file = null;

            // Small batches on a server that fsyncs each commit are slow: past its time budget a point stops intake,
            // drains and is verified like a Ctrl+C, on fewer events (the table says how many).
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(stop);
            budget.CancelAfter(options.SweepPointBudget);
            await using (IEventSink sink = sinks.Create("sweep"))
            {
                file = (sink as SqliteSink)?.DatabasePath;
                result = await EventStreamRunner.RunAsync(new GeneratedEventSource(events, options.Producers), sink, settings, null, budget.Token);
            }

            if (file is not null)
            {
                // A sweep point's database only proves the count; it is not kept.
                SinkFactory.DeleteDatabase(file);
            }

            points.Add(new SweepPoint(size, result));
            string note = !result.Succeeded ? " FAILED" : result.Interrupted ? string.Create(inv, $" (time budget of {options.SweepPointBudget.TotalSeconds:F0} s: {result.Accepted:N0} of {events:N0} events)") : "";
            output.WriteLine(string.Create(inv, $"point: batch_size={size} {result.SummaryLine()["summary: ".Length..]}{note}"));
        }

        output.WriteLine();
        output.WriteLine("| batch size | events/s | p50 ms | p99 ms | batches |  events | rows verified |");
        output.WriteLine("|-----------:|---------:|-------:|-------:|--------:|--------:|--------------:|");
        foreach (SweepPoint p in points)
        {
            RunResult r = p.Result;
            output.WriteLine(string.Create(inv, $"| {p.BatchSize,10:N0} | {r.EventsPerSecond,8:N0} | {r.P50Ms,6:F1} | {r.P99Ms,6:F1} | {r.Batches,7:N0} | {r.Accepted,7:N0} | {r.RowsVerified,13:N0} |"));
        }

        output.WriteLine();
        if (points.Count > 0)
        {
            string chart = Path.GetFullPath(options.Chart ?? Path.Combine(sinks.Folder, "sweep.png"));
            SweepChart.Save(points, sinks.StoreName, chart);
            output.WriteLine($"chart: {chart}");
        }

        bool ok = !stop.IsCancellationRequested && points.Count == sizes.Length && points.TrueForAll(p => p.Result.Succeeded);
        output.WriteLine(ok ? "sweep: every point verified (rows_verified == events)" : "sweep: FAILED: stopped by Ctrl+C, or a point lost events");
        return ok ? 0 : 1;
    }
}
