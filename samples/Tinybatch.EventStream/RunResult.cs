using System.Globalization;

namespace Tinybatch.EventStream;

/// <summary>What a run did, counted back from the store.</summary>
internal sealed record RunResult
{
    /// <summary>Gets the events the batcher accepted.</summary>
    public required long Accepted { get; init; }

    /// <summary>Gets the batches dispatched.</summary>
    public required long Batches { get; init; }

    /// <summary>Gets the rows counted in the store after the run.</summary>
    public required long RowsVerified { get; init; }

    /// <summary>Gets the batcher's counters once drained.</summary>
    public required BatcherCounters Counters { get; init; }

    /// <summary>Gets the time from the first add to the last commit.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Gets the median add-to-commit latency, in milliseconds.</summary>
    public required double P50Ms { get; init; }

    /// <summary>Gets the 99th percentile add-to-commit latency, in milliseconds.</summary>
    public required double P99Ms { get; init; }

    /// <summary>Gets the events that went to the dead-letter callback (failed batches).</summary>
    public required long DeadLetters { get; init; }

    /// <summary>Gets the first dead letter's exception, if any.</summary>
    public Exception? FirstFailure { get; init; }

    /// <summary>Gets the error that stopped intake early (bad input), if any.</summary>
    public Exception? SourceError { get; init; }

    /// <summary>Gets a value indicating whether intake was stopped (Ctrl+C) before the source was exhausted.</summary>
    public bool Interrupted { get; init; }

    /// <summary>Gets the first missing ids, in order (at most <see cref="EventStreamRunner.MaxMissingListed"/>).</summary>
    public IReadOnlyList<long> MissingIds { get; init; } = [];

    /// <summary>Gets how many accepted ids are missing from the store.</summary>
    public long MissingCount { get; init; }

    /// <summary>Gets the committed events per second.</summary>
    public double EventsPerSecond => Elapsed > TimeSpan.Zero ? Counters.Succeeded / Elapsed.TotalSeconds : 0;

    /// <summary>Gets a value indicating whether every accepted event is in the store and nothing failed.</summary>
    public bool Succeeded => RowsVerified == Accepted && MissingCount == 0 && DeadLetters == 0 && SourceError is null;

    /// <summary>Formats the demo's one-line summary, in its exact form.</summary>
    /// <returns>The line.</returns>
    public string SummaryLine() => string.Create(
        CultureInfo.InvariantCulture,
        $"summary: events={Accepted} batches={Batches} rows_verified={RowsVerified} events_per_second={EventsPerSecond:F0} p50_ms={P50Ms:F1} p99_ms={P99Ms:F1}");
}
