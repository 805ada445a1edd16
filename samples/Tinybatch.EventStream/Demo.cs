using System.Globalization;

namespace Tinybatch.EventStream;

/// <summary>The demo's commands: a run (with <c>--compare</c>) or a sweep. Returns the process exit code.</summary>
internal static class Demo
{
    /// <summary>Runs the demo.</summary>
    /// <param name="options">The parsed command line.</param>
    /// <param name="output">Where the report goes.</param>
    /// <param name="stdin">The reader of <c>--input -</c>.</param>
    /// <param name="progress">Shows progress, or <see langword="null"/> for none.</param>
    /// <param name="stop">Ctrl+C: stops intake; accepted events are still committed and verified.</param>
    /// <returns>0 when every accepted event is in the store and nothing failed; 1 otherwise.</returns>
    public static async Task<int> RunAsync(DemoOptions options, TextWriter output, TextReader stdin, IProgressDisplay? progress, CancellationToken stop)
    {
        if (options.Help)
        {
            output.WriteLine(DemoOptionsParser.Usage);
            return 0;
        }

        var sinks = new SinkFactory(options);
        return options.Sweep
            ? await SweepCommand.RunAsync(options, sinks, output, stop)
            : await RunOnceAsync(options, sinks, output, stdin, progress, stop);
    }

    private static async Task<int> RunOnceAsync(DemoOptions options, SinkFactory sinks, TextWriter output, TextReader stdin, IProgressDisplay? progress, CancellationToken stop)
    {
        var inv = CultureInfo.InvariantCulture;
        IEventSource source = options.Input switch
        {
            null => new GeneratedEventSource(options.Events ?? DemoOptions.DefaultEvents, options.Producers),
            "-" => NdjsonEventSource.FromReader(stdin),
            string path => NdjsonEventSource.FromFile(path),
        };

        RunResult result;
        await using (IEventSink sink = sinks.Create())
        {
            RunSettings s = options.Settings;
            output.WriteLine($"events: {source.Description}");
            output.WriteLine($"store: {sink.Description}");
            output.WriteLine($"write: {sink.BatchMethod}");
            output.WriteLine(string.Create(inv, $"batcher: MaxBatchSize={s.BatchSize} MaxBatchDelay={s.Delay.TotalMilliseconds:F0}ms Capacity={Math.Max(s.Capacity, s.BatchSize)} MaxConcurrentBatches={Math.Clamp(s.Concurrency, 1, sink.MaxConcurrentWriters)}"));
            result = await EventStreamRunner.RunAsync(source, sink, s, progress, stop);
        }

        output.WriteLine(string.Create(inv, $"elapsed: {result.Elapsed.TotalSeconds:F2} s"));
        if (result.Interrupted)
        {
            output.WriteLine(string.Create(inv, $"stopped: intake closed by Ctrl+C after {result.Accepted:N0} accepted events; every accepted event was drained and committed"));
        }

        BaselineResult? baseline = null;
        if (options.Compare && !stop.IsCancellationRequested && result.Accepted > 0)
        {
            output.WriteLine(string.Create(inv, $"baseline: writing the same events with one INSERT per event (own transaction, no batcher), at most {options.BaselineEvents:N0} or {options.BaselineBudget.TotalSeconds:F0} s ..."));
            await using IEventSink perRow = sinks.Create("per_row");
            baseline = await PerRowBaseline.RunAsync(source.Replay(), result.Accepted, options.BaselineEvents, options.BaselineBudget, perRow, stop);
            output.WriteLine(string.Create(inv, $"baseline: {perRow.Description}"));
            string smaller = baseline.StoppedEarly is null ? "all events" : $"a smaller N ({baseline.Written:N0} of {result.Accepted:N0} events; {baseline.StoppedEarly})";
            output.WriteLine(string.Create(inv, $"baseline: {baseline.EventsPerSecond:F0} events/s one row per insert, on {smaller}; rows_verified={baseline.RowsVerified}"));
        }

        SinkAloneResult? ceiling = null;
        if (options.Compare && !stop.IsCancellationRequested && result.Accepted > 0)
        {
            RunSettings s = options.Settings;
            output.WriteLine(string.Create(inv, $"sink alone: the same {result.Accepted:N0} events, made before the clock starts, written {s.BatchSize:N0} per transaction with the same settings; no batcher, no producers ..."));
            await using IEventSink alone = sinks.Create("sink_alone");
            ceiling = await SinkAlone.RunAsync(source.Replay(), result.Accepted, s.BatchSize, s.Concurrency, alone, stop);
            output.WriteLine(string.Create(inv, $"sink alone: {alone.Description}"));
            output.WriteLine(string.Create(inv, $"sink alone: {ceiling.EventsPerSecond:F0} events/s with {ceiling.Writers} writer(s); rows_verified={ceiling.RowsVerified}"));
        }

        WriteSummary(output, result, baseline, ceiling);
        bool ceilingVerified = ceiling is null || ceiling.RowsVerified == ceiling.Written;
        return result.Succeeded && (baseline is null || baseline.RowsVerified == baseline.Written) && ceilingVerified ? 0 : 1;
    }

    /// <summary>Writes the summary block; its last line is the exact summary line.</summary>
    /// <param name="output">Where it goes.</param>
    /// <param name="result">The batched run.</param>
    /// <param name="baseline">The per-row baseline, if any.</param>
    /// <param name="ceiling">The sink-alone run, if any.</param>
    internal static void WriteSummary(TextWriter output, RunResult result, BaselineResult? baseline, SinkAloneResult? ceiling = null)
    {
        var inv = CultureInfo.InvariantCulture;
        BatcherCounters c = result.Counters;
        output.WriteLine(string.Create(inv, $"counters: accepted={c.Accepted} succeeded={c.Succeeded} failed={c.Failed} rejected={c.Rejected} canceled={c.Canceled} dropped={c.Dropped} batches={c.Batches}"));
        if (result.SourceError is { } sourceError)
        {
            output.WriteLine($"error: input stopped early: {sourceError.Message}");
        }

        if (result.DeadLetters > 0)
        {
            output.WriteLine(string.Create(inv, $"error: {result.DeadLetters} events failed (dead-lettered); first error: {result.FirstFailure?.GetType().Name}: {result.FirstFailure?.Message}"));
        }

        if (result.RowsVerified != result.Accepted || result.MissingCount > 0)
        {
            string listed = string.Join(", ", result.MissingIds);
            string more = result.MissingCount > result.MissingIds.Count ? ", …" : "";
            output.WriteLine(string.Create(inv, $"error: rows_verified={result.RowsVerified} but accepted={result.Accepted}; missing ids: {listed}{more} ({result.MissingCount} total)"));
        }
        else
        {
            output.WriteLine(string.Create(inv, $"verified: all {result.Accepted:N0} accepted events are in the database, ids 1..{result.Accepted}"));
        }

        if (baseline is not null && baseline.EventsPerSecond > 0)
        {
            output.WriteLine(string.Create(inv, $"compare: batched {result.EventsPerSecond:F0} events/s vs one row per insert {baseline.EventsPerSecond:F0} events/s"));
            output.WriteLine(string.Create(inv, $"speedup: {result.EventsPerSecond / baseline.EventsPerSecond:F1}"));
        }

        if (ceiling is not null && ceiling.EventsPerSecond > 0)
        {
            output.WriteLine(string.Create(inv, $"ceiling: sink_alone_per_second={ceiling.EventsPerSecond:F0} demo_per_second={result.EventsPerSecond:F0} ratio={result.EventsPerSecond / ceiling.EventsPerSecond:F2}"));
        }

        output.WriteLine(result.SummaryLine());
    }
}
