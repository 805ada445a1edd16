using System.Globalization;
using Tinybatch.Benchmarks.Implementations;

namespace Tinybatch.Benchmarks.Compare;

/// <summary>
/// The targets of the "Speed" issue, as ratios to the best anchor of the same run. S1–S3 targets are checked against
/// Tinybatch in its default (Fixed) mode; S4 and the adaptive-cost target against Adaptive mode.
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

        Measurement? BestAnchor(string scenario)
        {
            List<Measurement> anchors = measurements.Where(m => m.Scenario == scenario && m.IsAnchor && m.FailureMessage is null).ToList();
            return anchors.Count == 0 ? null : Report.Best(anchors, byLatency: false);
        }

        if (Find("S1", ImplementationKind.Tinybatch) is { } s1 && BestAnchor("S1") is { } s1Best)
        {
            double ratio = s1.ItemsPerSecond / s1Best.ItemsPerSecond;
            yield return new TargetCheck("S1 ≥ 2× best anchor items/s", F($"{ratio:F2}× ({s1Best.Implementation})"), ratio >= 2);
            yield return new TargetCheck("S1 ≤ 1 B allocated per job", F($"{s1.AllocatedBytesPerItem:F1} B"), s1.AllocatedBytesPerItem <= 1);
        }

        foreach (string s2 in new[] { "S2-4", "S2-16" })
        {
            if (Find(s2, ImplementationKind.Tinybatch) is { } tinybatch && BestAnchor(s2) is { } best)
            {
                double ratio = tinybatch.ItemsPerSecond / best.ItemsPerSecond;
                yield return new TargetCheck($"{s2} ≥ 1.5× best anchor items/s", F($"{ratio:F2}× ({best.Implementation})"), ratio >= 1.5);
            }
        }

        if (Find("S3", ImplementationKind.Tinybatch) is { } s3 && BestAnchor("S3") is { } s3Best)
        {
            double ratio = s3.ItemsPerSecond / s3Best.ItemsPerSecond;
            yield return new TargetCheck("S3 ≥ 2× best anchor requests/s", F($"{ratio:F2}× ({s3Best.Implementation})"), ratio >= 2);
            yield return new TargetCheck(
                "S3 p99 ≤ that anchor's p99",
                F($"{s3.P99Us:F0} µs vs {s3Best.P99Us:F0} µs"),
                s3.P99Us <= s3Best.P99Us);
            yield return new TargetCheck("S3 ≤ 8 B per request", F($"{s3.AllocatedBytesPerItem:F1} B"), s3.AllocatedBytesPerItem <= 8);
        }

        if (Find("S4", ImplementationKind.TinybatchAdaptive) is { } s4)
        {
            // The floor is not a target; it says what part of the latency is the machine's.
            string floor = Find("S4", ImplementationKind.HandoffFloor) is { } f
                ? F($" (bare thread-pool hand-off in this run: p50 {f.P50Us:F1} µs, p99 {f.P99Us:F1} µs)")
                : "";
            yield return new TargetCheck("S4 adaptive p50 add-to-handler ≤ 50 µs", F($"{s4.P50Us:F1} µs{floor}"), s4.P50Us <= 50);
            yield return new TargetCheck("S4 adaptive p99 add-to-handler ≤ 250 µs", F($"{s4.P99Us:F1} µs"), s4.P99Us <= 250);
        }

        if (Find("S1", ImplementationKind.Tinybatch) is { } fixedMode && Find("S1", ImplementationKind.TinybatchAdaptive) is { } adaptive)
        {
            double cost = 1 - (adaptive.ItemsPerSecond / fixedMode.ItemsPerSecond);
            yield return new TargetCheck("Adaptive costs ≤ 10% of S1 items/s vs Fixed", F($"{cost:P1}"), cost <= 0.10);
        }
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
