using System.Globalization;
using Tinybatch.Benchmarks.Implementations;

namespace Tinybatch.Benchmarks.Compare;

/// <summary>
/// The speed targets, as ratios to the best anchor (or to the floor rows) of the same run. Throughput and CPU targets
/// are checked against Tinybatch in its default (Fixed) mode; the S4 latency target against Adaptive mode.
/// </summary>
internal static class Targets
{
    public static IEnumerable<TargetCheck> Check(IReadOnlyList<Measurement> measurements)
    {
        foreach (Measurement failed in measurements.Where(m => m.IsTinybatch && m.FailureMessage is not null))
        {
            yield return new TargetCheck($"{failed.Scenario} {failed.Implementation} completes every run", "FAILED: " + failed.FailureMessage, false);
        }

        Measurement? Find(string scenario, ImplementationKind kind) =>
            measurements.FirstOrDefault(m => m.Scenario == scenario && m.Kind == kind && m.FailureMessage is null);

        List<Measurement> Anchors(string scenario) =>
            measurements.Where(m => m.Scenario == scenario && m.IsAnchor && m.FailureMessage is null).ToList();

        Measurement? BestAnchor(string scenario) => Anchors(scenario) is { Count: > 0 } a ? Report.Best(a, byLatency: false) : null;

        Measurement? LeanestAnchor(string scenario) => Anchors(scenario).MinBy(a => a.CpuNsPerItem);

        Measurement? s1 = Find("S1", ImplementationKind.Tinybatch);
        if (s1 is not null && Find("S1", ImplementationKind.Floor) is { } floor)
        {
            double ratio = s1.ItemsPerSecond / floor.ItemsPerSecond;
            yield return new TargetCheck("S1 ≥ 0.9× the Floor row's items/s", F($"{ratio:F2}× ({floor.ItemsPerSecond:N0}/s)"), ratio >= 0.9);
            double cpu = s1.CpuNsPerItem / floor.CpuNsPerItem;
            yield return new TargetCheck("S1 CPU ns/job ≤ 1.1× the Floor row's", F($"{s1.CpuNsPerItem:F0} vs {floor.CpuNsPerItem:F0} ns ({cpu:F2}×)"), cpu <= 1.1);
        }

        if (s1 is not null)
        {
            yield return new TargetCheck("S1 ≤ 1 B allocated per job", F($"{s1.AllocatedBytesPerItem:F1} B"), s1.AllocatedBytesPerItem <= 1);
        }

        if (Find("S1-bulk", ImplementationKind.Tinybatch) is { } bulk)
        {
            // The stricter of the two readings: the best anchor of S1 or of S1-bulk (where the anchors add one by one).
            Measurement? best = new[] { BestAnchor("S1"), BestAnchor("S1-bulk") }.Where(m => m is not null).MaxBy(m => m!.ItemsPerSecond);
            if (best is not null)
            {
                double ratio = bulk.ItemsPerSecond / best.ItemsPerSecond;
                yield return new TargetCheck("S1-bulk ≥ 2× best anchor's S1 items/s", F($"{ratio:F2}× ({best.Implementation}, {best.Scenario})"), ratio >= 2);
            }
        }

        foreach (string scenario in new[] { "S2-4", "S2-16", "S3-steady" })
        {
            if (Find(scenario, ImplementationKind.Tinybatch) is not { } tinybatch)
            {
                continue;
            }

            if (BestAnchor(scenario) is { } best)
            {
                double ratio = tinybatch.ItemsPerSecond / best.ItemsPerSecond;
                yield return new TargetCheck($"{scenario} ≥ 1.5× best anchor items/s", F($"{ratio:F2}× ({best.Implementation})"), ratio >= 1.5);
                if (scenario == "S3-steady")
                {
                    yield return new TargetCheck(
                        "S3-steady p99 ≤ that anchor's p99",
                        F($"{tinybatch.P99Us:F0} µs vs {best.P99Us:F0} µs"),
                        tinybatch.P99Us <= best.P99Us);
                }
            }

            if (LeanestAnchor(scenario) is { } leanest)
            {
                yield return new TargetCheck(
                    $"{scenario} CPU ns/job ≤ lowest anchor's",
                    F($"{tinybatch.CpuNsPerItem:F0} vs {leanest.CpuNsPerItem:F0} ns ({leanest.Implementation})"),
                    tinybatch.CpuNsPerItem <= leanest.CpuNsPerItem);
            }
        }

        foreach (string scenario in new[] { "S3", "S3-steady" })
        {
            if (Find(scenario, ImplementationKind.Tinybatch) is { } requests)
            {
                yield return new TargetCheck($"{scenario} ≤ 8 B per request", F($"{requests.AllocatedBytesPerItem:F1} B"), requests.AllocatedBytesPerItem <= 8);
            }
        }

        if (Find("S4", ImplementationKind.TinybatchAdaptive) is { } s4 && Find("S4", ImplementationKind.HandoffFloor) is { } handoff)
        {
            double ratio = s4.P50Us / handoff.P50Us;
            yield return new TargetCheck(
                "S4 adaptive p50 ≤ 1.1× the thread-pool hand-off floor's",
                F($"{s4.P50Us:F1} µs vs {handoff.P50Us:F1} µs ({ratio:F2}×)"),
                ratio <= 1.1);
        }
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
