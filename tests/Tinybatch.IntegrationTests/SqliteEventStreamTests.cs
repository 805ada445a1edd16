using Tinybatch.EventStream;

namespace Tinybatch.IntegrationTests;

/// <summary>The demo's code path end to end on SQLite: events through the batcher into a database file, counted back.</summary>
public sealed class SqliteEventStreamTests : IDisposable
{
    private static readonly RunSettings Small = RunSettings.Default with { BatchSize = 100, Delay = TimeSpan.FromMilliseconds(5), Capacity = 1000 };
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task RunAsync_TwoThousandGeneratedEvents_EveryEventIsInTheDatabase()
    {
        await using var sink = new SqliteSink(_folder.File("events.db"));

        RunResult result = await EventStreamRunner.RunAsync(new GeneratedEventSource(2000, producers: 4), sink, Small, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.SummaryLine());
        Assert.Equal(2000, result.Accepted);
        Assert.Equal(2000, result.RowsVerified);
        Assert.Equal(2000, result.Counters.Succeeded);
        Assert.Equal(0, result.Counters.Failed);
        Assert.InRange(result.Batches, 20, 2000);
        Assert.Empty(result.MissingIds);
        Assert.InRange(result.P50Ms, 0.001, result.P99Ms);
        Assert.Matches(
            @"^summary: events=2000 batches=\d+ rows_verified=2000 events_per_second=\d+ p50_ms=\d+\.\d p99_ms=\d+\.\d$",
            result.SummaryLine());
    }

    [Fact]
    public async Task RunAsync_StopRequestedAfterFirstCommit_EveryAcceptedEventIsCommitted()
    {
        using var stop = new CancellationTokenSource();
        await using var sink = new ObservingSink(new SqliteSink(_folder.File("events.db")), batch => stop.Cancel());

        RunResult result = await EventStreamRunner.RunAsync(new GeneratedEventSource(10_000_000, producers: 2), sink, Small, null, stop.Token);

        Assert.True(result.Interrupted);
        Assert.InRange(result.Accepted, 1, 9_999_999);
        Assert.Equal(result.Accepted, result.RowsVerified);
        Assert.Equal(result.Accepted, result.Counters.Succeeded);
        Assert.True(result.Succeeded, result.SummaryLine());
    }

    [Fact]
    public async Task RunAsync_StoreLosesRows_NamesTheMissingIdsAndFails()
    {
        await using var sink = new LossySink(new SqliteSink(_folder.File("events.db")), every: 500);

        RunResult result = await EventStreamRunner.RunAsync(new GeneratedEventSource(2000, producers: 2), sink, Small, null, CancellationToken.None);
        var report = new StringWriter();
        Demo.WriteSummary(report, result, baseline: null);

        Assert.False(result.Succeeded);
        Assert.Equal(1996, result.RowsVerified);
        Assert.Equal([500L, 1000, 1500, 2000], result.MissingIds);
        Assert.Equal(4, result.MissingCount);
        Assert.Contains("missing ids: 500, 1000, 1500, 2000 (4 total)", report.ToString(), StringComparison.Ordinal);
        string lastLine = report.ToString().TrimEnd().Split('\n')[^1];
        Assert.StartsWith($"summary: events=2000 batches={result.Batches} rows_verified=1996 ", lastLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_StoreRefusesABatch_CountsTheDeadLettersAndFails()
    {
        await using var sink = new FailingSink(new SqliteSink(_folder.File("events.db")), poisonId: 1);

        RunResult result = await EventStreamRunner.RunAsync(new GeneratedEventSource(1000, producers: 1), sink, Small, null, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.InRange(result.DeadLetters, 1, 100);
        Assert.Equal(result.DeadLetters, result.Counters.Failed);
        Assert.Equal(1000 - result.DeadLetters, result.RowsVerified);
        Assert.Contains(1L, result.MissingIds);
        Assert.IsType<InvalidOperationException>(result.FirstFailure);
    }

    [Fact]
    public async Task RunAsync_NdjsonFile_EveryObjectLineBecomesARow()
    {
        string input = _folder.File("events.ndjson");
        await File.WriteAllLinesAsync(input, ["{\"type\":\"click\",\"x\":1}", "", "{\"type\":\"view\"}", "{\"n\":3}"]);
        await using var sink = new SqliteSink(_folder.File("events.db"));

        RunResult result = await EventStreamRunner.RunAsync(NdjsonEventSource.FromFile(input), sink, Small, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.SummaryLine());
        Assert.Equal(3, result.RowsVerified);
    }

    [Fact]
    public async Task RunAsync_NdjsonLineIsNotJson_StopsIntakeNamingTheLineAndKeepsEarlierEvents()
    {
        string input = _folder.File("events.ndjson");
        await File.WriteAllLinesAsync(input, ["{\"type\":\"click\"}", "{\"type\":\"view\"}", "not json", "{\"type\":\"late\"}"]);
        await using var sink = new SqliteSink(_folder.File("events.db"));

        RunResult result = await EventStreamRunner.RunAsync(NdjsonEventSource.FromFile(input), sink, Small, null, CancellationToken.None);

        Assert.False(result.Succeeded);
        FormatException error = Assert.IsType<FormatException>(result.SourceError);
        Assert.Contains("line 3", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, result.Accepted);
        Assert.Equal(2, result.RowsVerified);
    }

    [Fact]
    public async Task RunAsync_PerRowBaseline_WritesTheSameEventsOneByOne()
    {
        await using var sink = new SqliteSink(_folder.File("per-row.db"));

        BaselineResult baseline = await PerRowBaseline.RunAsync(
            new GeneratedEventSource(500, 1).Replay(), total: 500, maxEvents: 200, TimeSpan.FromMinutes(1), sink, CancellationToken.None);

        Assert.Equal(200, baseline.Written);
        Assert.Equal(200, baseline.RowsVerified);
        Assert.Contains("--baseline-events", baseline.StoppedEarly, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), await sink.ReadIdsAsync(CancellationToken.None).ToListAsync());
    }
}
