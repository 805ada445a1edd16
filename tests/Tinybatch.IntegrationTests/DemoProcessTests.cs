namespace Tinybatch.IntegrationTests;

/// <summary>The built demo, run as a user runs it: arguments in, summary line and exit code out.</summary>
public sealed class DemoProcessTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Main_TwoThousandEventsIntoSqlite_PrintsVerifiedSummaryAndExitsZero()
    {
        (int exitCode, string output) = await DemoProcess.RunAsync("--events", "2000", "--db", _folder.File("events.db"), "--plain");

        Assert.True(exitCode == 0, output);
        SummaryLine summary = SummaryLine.ParseLast(output);
        Assert.Equal(2000, summary.Events);
        Assert.Equal(2000, summary.RowsVerified);
        Assert.Contains("store: SQLite " + _folder.File("events.db"), output, StringComparison.Ordinal);
        Assert.Contains("counters: accepted=2000 succeeded=2000 failed=0 rejected=0", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Main_Interrupted_DrainsCommitsAndVerifiesEveryAcceptedEvent()
    {
        // Far more events than can be written before the interrupt, which comes at the first progress line.
        using DemoProcess demo = DemoProcess.Start(["--events", "50000000", "--db", _folder.File("events.db"), "--plain"], defaultSigint: true);
        await demo.FirstProgressLine.WaitAsync(TimeSpan.FromMinutes(2));

        demo.Interrupt();
        int exitCode = await demo.WaitForExitAsync();

        string output = demo.Output;
        Assert.True(exitCode == 0, output);
        Assert.Contains("stopped: intake closed by Ctrl+C", output, StringComparison.Ordinal);
        SummaryLine summary = SummaryLine.ParseLast(output);
        Assert.InRange(summary.Events, 1, 49_999_999);
        Assert.Equal(summary.Events, summary.RowsVerified);
    }

    [Fact]
    public async Task Main_UnknownOption_ExitsWithUsageError()
    {
        (int exitCode, string output) = await DemoProcess.RunAsync("--evnts", "10");

        Assert.Equal(2, exitCode);
        Assert.Contains("Unknown option '--evnts'", output, StringComparison.Ordinal);
    }
}
