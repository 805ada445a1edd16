using Tinybatch.EventStream;

namespace Tinybatch.IntegrationTests;

/// <summary>The demo's commands (--compare, --sweep, NDJSON on stdin) in process, on SQLite.</summary>
public sealed class DemoTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task RunAsync_Compare_PrintsBaselineSpeedupAndCeilingBeforeTheSummaryLine()
    {
        DemoOptions options = Parse("--events", "3000", "--baseline-events", "500", "--compare", "--db", _folder.File("events.db"));
        var output = new StringWriter();

        int exitCode = await Demo.RunAsync(options, output, TextReader.Null, null, CancellationToken.None);

        string text = output.ToString();
        Assert.True(exitCode == 0, text);
        Assert.Contains("on a smaller N (500 of 3,000 events; capped at --baseline-events 500); rows_verified=500", text, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^speedup: \d+\.\d\r?$", text);
        Assert.Contains("sink alone: the same 3,000 events", text, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^sink alone: \d+ events/s with 1 writer\(s\); rows_verified=3000\r?$", text);
        Assert.Matches(@"(?m)^ceiling: sink_alone_per_second=\d+ demo_per_second=\d+ ratio=\d+\.\d\d\r?$", text);
        Assert.True(File.Exists(_folder.File("events_per_row.db")));
        Assert.True(File.Exists(_folder.File("events_sink_alone.db")));
        SummaryLine summary = SummaryLine.ParseLast(text);
        Assert.Equal(3000, summary.RowsVerified);
    }

    [Fact]
    public async Task RunAsync_Sweep_PrintsATableAndWritesAPngChart()
    {
        string chart = _folder.File("sweep.png");
        DemoOptions options = Parse("--sweep", "--events", "2000", "--sweep-sizes", "100,10", "--chart", chart, "--db", _folder.File("events.db"));
        var output = new StringWriter();

        int exitCode = await Demo.RunAsync(options, output, TextReader.Null, null, CancellationToken.None);

        string text = output.ToString();
        Assert.True(exitCode == 0, text);
        Assert.Contains("chart: " + chart, text, StringComparison.Ordinal);
        Assert.Matches(@"\|\s+10 \|\s+[\d,]+ \|", text);
        Assert.Matches(@"\|\s+100 \|\s+[\d,]+ \|", text);
        byte[] png = await File.ReadAllBytesAsync(chart);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.InRange(png.Length, 5_000, 5_000_000);
    }

    [Fact]
    public async Task RunAsync_NdjsonOnStdin_WritesEveryLine()
    {
        DemoOptions options = Parse("--input", "-", "--db", _folder.File("events.db"));
        var stdin = new StringReader("{\"type\":\"a\"}\n{\"type\":\"b\"}\n\n{\"type\":\"c\"}\n");
        var output = new StringWriter();

        int exitCode = await Demo.RunAsync(options, output, stdin, null, CancellationToken.None);

        Assert.True(exitCode == 0, output.ToString());
        Assert.Contains("events: NDJSON events from stdin", output.ToString(), StringComparison.Ordinal);
        SummaryLine summary = SummaryLine.ParseLast(output.ToString());
        Assert.Equal(3, summary.Events);
        Assert.Equal(3, summary.RowsVerified);
    }

    private static DemoOptions Parse(params string[] args) => DemoOptionsParser.Parse(args);
}
