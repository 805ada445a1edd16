using Npgsql;
using Tinybatch.EventStream;

namespace Tinybatch.IntegrationTests;

/// <summary>The demo on PostgreSQL (binary COPY): runs when TINYBATCH_PG is set, skipped with the reason otherwise.</summary>
public sealed class PostgresEventStreamTests : IAsyncLifetime
{
    private static readonly RunSettings Small = RunSettings.Default with { BatchSize = 100, Delay = TimeSpan.FromMilliseconds(5), Capacity = 1000 };

    // Each test has its own tables, so tests can run in parallel against one server.
    private readonly string _table = "it_" + Guid.NewGuid().ToString("N")[..16];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (PostgresFactAttribute.ConnectionString is { Length: > 0 } cs)
        {
            await using NpgsqlDataSource db = NpgsqlDataSource.Create(cs);
            await using NpgsqlCommand drop = db.CreateCommand($"DROP TABLE IF EXISTS {_table}; DROP TABLE IF EXISTS {_table}_per_row;");
            await drop.ExecuteNonQueryAsync();
        }
    }

    [PostgresFact]
    public async Task RunAsync_TwoThousandGeneratedEvents_EveryEventIsInTheTable()
    {
        await using var sink = new PostgresSink(PostgresFactAttribute.ConnectionString!, _table);

        RunResult result = await EventStreamRunner.RunAsync(new GeneratedEventSource(2000, producers: 4), sink, Small, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.SummaryLine());
        Assert.Equal(2000, result.RowsVerified);
        Assert.Equal(2000, result.Counters.Succeeded);
        Assert.Equal(Enumerable.Range(1, 2000).Select(i => (long)i), await sink.ReadIdsAsync(CancellationToken.None).ToListAsync());
    }

    [PostgresFact]
    public async Task RunAsync_StopRequestedAfterFirstCommit_EveryAcceptedEventIsCommitted()
    {
        using var stop = new CancellationTokenSource();
        await using var sink = new ObservingSink(new PostgresSink(PostgresFactAttribute.ConnectionString!, _table), batch => stop.Cancel());

        RunResult result = await EventStreamRunner.RunAsync(new GeneratedEventSource(10_000_000, producers: 2), sink, Small, null, stop.Token);

        Assert.True(result.Interrupted);
        Assert.InRange(result.Accepted, 1, 9_999_999);
        Assert.Equal(result.Accepted, result.RowsVerified);
        Assert.True(result.Succeeded, result.SummaryLine());
    }

    [PostgresFact]
    public async Task RunAsync_StoreLosesRows_NamesTheMissingIds()
    {
        await using var sink = new LossySink(new PostgresSink(PostgresFactAttribute.ConnectionString!, _table), every: 700);

        RunResult result = await EventStreamRunner.RunAsync(new GeneratedEventSource(2000, producers: 2), sink, Small, null, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal([700L, 1400], result.MissingIds);
    }

    [PostgresFact]
    public async Task Main_CompareOnPostgres_PrintsSpeedupAndVerifiedSummary()
    {
        (int exitCode, string output) = await DemoProcess.RunAsync(
            "--postgres", PostgresFactAttribute.ConnectionString!, "--table", _table, "--events", "5000",
            "--compare", "--baseline-events", "300", "--plain");

        Assert.True(exitCode == 0, output);
        Assert.Contains("store: PostgreSQL", output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^speedup: \d+\.\d\r?$", output);
        SummaryLine summary = SummaryLine.ParseLast(output);
        Assert.Equal(5000, summary.Events);
        Assert.Equal(5000, summary.RowsVerified);
    }
}
