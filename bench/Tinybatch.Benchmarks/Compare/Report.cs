using System.Globalization;
using System.Text;
using System.Text.Json;
using Tinybatch.Benchmarks.Implementations;

namespace Tinybatch.Benchmarks.Compare;

/// <summary>Prints the medians as markdown (figures, ratios, targets) and writes them as JSON.</summary>
internal static class Report
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Markdown(IReadOnlyList<Measurement> measurements, CompareOptions options, TimeSpan elapsed)
    {
        var md = new StringBuilder();
        md.AppendLine(Invariant, $"Medians of {options.Rounds} interleaved rounds; batch size 100, delay 10 ms, trivial handler; run took {elapsed.TotalSeconds:F0} s.");
        md.AppendLine();
        md.AppendLine("| Scenario | Implementation | items/s | CPU ns/item | B/item | p50 µs | p99 µs | p99.9 µs | mean batch |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (Measurement m in measurements)
        {
            if (m.FailureMessage is not null)
            {
                md.AppendLine(Invariant, $"| {m.Scenario} | {m.Implementation} | **FAILED**: {m.FailureMessage.Replace('|', '/')} | | | | | | |");
                continue;
            }

            md.AppendLine(Invariant,
                $"| {m.Scenario} | {m.Implementation} | {m.ItemsPerSecond:N0} | {m.CpuNsPerItem:F0} | {m.AllocatedBytesPerItem:F1} | {m.P50Us:F1} | {m.P99Us:F1} | {m.P999Us:F1} | {m.MeanBatchSize:F1} |");
        }

        md.AppendLine();
        md.AppendLine("Ratios, Tinybatch ÷ anchor: items/s for the throughput scenarios (higher is better), p50 latency for S4 (lower is better); " +
            "Floor: ÷ the single-queue floor's items/s; CPU: Tinybatch's CPU ns/item ÷ the lowest anchor's (lower is better).");
        md.AppendLine();
        md.AppendLine("| Scenario | Tinybatch mode | vs Dataflow | vs Rx | vs Channel | vs Channel drain | vs best anchor | vs Floor | CPU vs lowest anchor |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (IGrouping<string, Measurement> scenario in measurements.Where(m => m.FailureMessage is null).GroupBy(m => m.Scenario))
        {
            bool latency = scenario.Key == "S4";
            Func<Measurement, double> figure = latency ? m => m.P50Us : m => m.ItemsPerSecond;
            List<Measurement> anchors = scenario.Where(m => m.IsAnchor).ToList();
            if (anchors.Count == 0)
            {
                continue;
            }

            Measurement best = Best(anchors, latency);
            Measurement leanest = anchors.MinBy(a => a.CpuNsPerItem)!;
            Measurement? floor = scenario.FirstOrDefault(m => m.Kind == ImplementationKind.Floor);
            foreach (Measurement tinybatch in scenario.Where(m => m.IsTinybatch))
            {
                string Ratio(ImplementationKind kind)
                {
                    Measurement? anchor = anchors.FirstOrDefault(a => a.Kind == kind);
                    return anchor is null ? "–" : (figure(tinybatch) / figure(anchor)).ToString("F2", Invariant);
                }

                string vsFloor = floor is null ? "–" : (tinybatch.ItemsPerSecond / floor.ItemsPerSecond).ToString("F2", Invariant);
                string cpu = latency ? "–" : string.Create(Invariant, $"{tinybatch.CpuNsPerItem / leanest.CpuNsPerItem:F2} ({leanest.Implementation})");
                md.AppendLine(Invariant,
                    $"| {scenario.Key} | {tinybatch.Implementation} | {Ratio(ImplementationKind.Dataflow)} | {Ratio(ImplementationKind.Rx)} | " +
                    $"{Ratio(ImplementationKind.Channel)} | {Ratio(ImplementationKind.ChannelDrain)} | {figure(tinybatch) / figure(best):F2} ({best.Implementation}) | {vsFloor} | {cpu} |");
            }
        }

        md.AppendLine();
        md.AppendLine("| Target | Measured | Verdict |");
        md.AppendLine("|---|---|---|");
        foreach (TargetCheck check in Targets.Check(measurements))
        {
            md.AppendLine(Invariant, $"| {check.Target} | {check.Measured} | {(check.Met ? "met" : "**missed**")} |");
        }

        return md.ToString();
    }

    /// <summary>The best anchor: the highest throughput, or for a latency scenario the lowest p50.</summary>
    public static Measurement Best(IEnumerable<Measurement> anchors, bool byLatency) =>
        byLatency ? anchors.MinBy(a => a.P50Us)! : anchors.MaxBy(a => a.ItemsPerSecond)!;

    public static void WriteJson(string path, IReadOnlyList<Measurement> measurements)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        using FileStream stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartArray();
        foreach (Measurement m in measurements)
        {
            json.WriteStartObject();
            if (m.FailureMessage is not null)
            {
                json.WriteString("scenario", m.Scenario);
                json.WriteString("implementation", m.Implementation);
                json.WriteString("failure", m.FailureMessage);
                json.WriteEndObject();
                continue;
            }

            json.WriteString("scenario", m.Scenario);
            json.WriteString("implementation", m.Implementation);
            json.WriteNumber("itemsPerSecond", Math.Round(m.ItemsPerSecond));
            json.WriteNumber("allocatedBytesPerItem", Math.Round(m.AllocatedBytesPerItem, 2));
            json.WriteNumber("p50Us", Math.Round(m.P50Us, 1));
            json.WriteNumber("p99Us", Math.Round(m.P99Us, 1));
            json.WriteNumber("p999Us", Math.Round(m.P999Us, 1));
            json.WriteNumber("meanBatchSize", Math.Round(m.MeanBatchSize, 1));
            json.WriteString("scenarioTitle", m.ScenarioTitle);
            json.WriteNumber("fullWaits", m.FullWaits);
            json.WriteNumber("cpuNsPerItem", Math.Round(m.CpuNsPerItem, 1));
            json.WriteNumber("rounds", m.Rounds);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}
