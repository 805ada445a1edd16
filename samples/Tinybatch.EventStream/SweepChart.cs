using System.Globalization;
using ScottPlot;

namespace Tinybatch.EventStream;

/// <summary>Draws a sweep as a PNG: events/s (left axis) and p99 latency (right axis) against batch size (log scale).</summary>
internal static class SweepChart
{
    /// <summary>Writes the chart.</summary>
    /// <param name="points">The sweep's points, in batch-size order.</param>
    /// <param name="store">What the events were written to, for the title.</param>
    /// <param name="path">The PNG file.</param>
    public static void Save(IReadOnlyList<SweepPoint> points, string store, string path)
    {
        // Batch sizes span decades: plot log10(size) and label the ticks with the sizes themselves.
        double[] xs = points.Select(p => Math.Log10(p.BatchSize)).ToArray();
        double[] rates = points.Select(p => p.Result.EventsPerSecond).ToArray();
        double[] p99s = points.Select(p => p.Result.P99Ms).ToArray();

        var plot = new Plot();
        plot.Title($"Tinybatch event stream into {store}: throughput and p99 latency by batch size");

        var rate = plot.Add.Scatter(xs, rates);
        rate.LegendText = "events/s (left)";
        rate.LineWidth = 2;
        rate.MarkerSize = 8;

        var p99 = plot.Add.Scatter(xs, p99s);
        p99.LegendText = "p99 add-to-commit latency, ms (right)";
        p99.LineWidth = 2;
        p99.MarkerSize = 8;
        p99.LinePattern = LinePattern.Dashed;
        p99.Axes.YAxis = plot.Axes.Right;

        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (SweepPoint point in points)
        {
            ticks.AddMajor(Math.Log10(point.BatchSize), point.BatchSize.ToString("N0", CultureInfo.InvariantCulture));
        }

        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.Bottom.Label.Text = "batch size (MaxBatchSize, log scale)";
        plot.Axes.Left.Label.Text = "events per second";
        plot.Axes.Right.Label.Text = "p99 latency (ms)";
        plot.Axes.Margins(0.08, 0.1);
        plot.Axes.SetLimitsY(0, rates.DefaultIfEmpty(1).Max() * 1.15, plot.Axes.Left);
        plot.Axes.SetLimitsY(0, p99s.DefaultIfEmpty(1).Max() * 1.15, plot.Axes.Right);
        plot.ShowLegend(Alignment.UpperLeft);

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, 1000, 560);
    }
}
