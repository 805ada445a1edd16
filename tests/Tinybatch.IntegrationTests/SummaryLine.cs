using System.Globalization;
using System.Text.RegularExpressions;

namespace Tinybatch.IntegrationTests;

/// <summary>The demo's summary line, parsed: it must be the last line of the output, in its exact form.</summary>
internal sealed partial record SummaryLine(long Events, long Batches, long RowsVerified, long EventsPerSecond, double P50Ms, double P99Ms)
{
    public static SummaryLine ParseLast(string output)
    {
        string last = output.TrimEnd().Split('\n')[^1].TrimEnd('\r');
        Match m = Pattern().Match(last);
        Assert.True(m.Success, $"The last line is not the summary line: '{last}'. Output:\n{output}");
        var inv = CultureInfo.InvariantCulture;
        return new SummaryLine(
            long.Parse(m.Groups[1].Value, inv),
            long.Parse(m.Groups[2].Value, inv),
            long.Parse(m.Groups[3].Value, inv),
            long.Parse(m.Groups[4].Value, inv),
            double.Parse(m.Groups[5].Value, inv),
            double.Parse(m.Groups[6].Value, inv));
    }

    [GeneratedRegex(@"^summary: events=(\d+) batches=(\d+) rows_verified=(\d+) events_per_second=(\d+) p50_ms=(\d+(?:\.\d+)?) p99_ms=(\d+(?:\.\d+)?)$")]
    private static partial Regex Pattern();
}
