using System.Diagnostics;
using System.Globalization;
using Tinybatch.Benchmarks.Compare;
using Tinybatch.Benchmarks.Implementations;
using Tinybatch.Benchmarks.Scenarios;

namespace Tinybatch.Benchmarks.Profile;

/// <summary>
/// <c>profile --scenario ID [--impl KIND] [--runs N] [--quick]</c>: one implementation in one scenario of
/// <c>compare</c>, a warm-up and then <c>N</c> runs, for a profiler to watch. Each run prints its job count, its CPU
/// per job and its measured window on the monotonic clock, which <c>phases</c> uses to keep only the samples taken
/// inside the windows (no warm-up, no set-up, no drain tail).
/// </summary>
internal static class ProfileRunner
{
    public const string Usage = "profile --scenario S1|S1-bulk|S2-4|S2-16|S3|S3-steady|S4 [--impl Tinybatch] [--runs N] [--quick]";

    /// <summary>The prefix of the line each run prints; <see cref="PhaseBreakdown"/> reads it back.</summary>
    public const string RunLinePrefix = "profile-run:";

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        string? scenarioId = null;
        var kind = ImplementationKind.Tinybatch;
        int runs = 3;
        var compareArgs = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--scenario" when i + 1 < args.Count:
                    scenarioId = args[++i];
                    break;
                case "--impl" when i + 1 < args.Count:
                    kind = Enum.Parse<ImplementationKind>(args[++i], ignoreCase: true);
                    break;
                case "--runs" when i + 1 < args.Count:
                    runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--quick":
                    compareArgs.Add("--quick");
                    break;
                default:
                    Console.Error.WriteLine($"usage: {Usage}");
                    return 2;
            }
        }

        Scenario? scenario = CompareRunner.Scenarios(Benchmarks.Compare.CompareOptions.Parse(compareArgs)).FirstOrDefault(s => s.Id == scenarioId);
        if (scenario is null || runs < 1 || !ImplementationFactory.RunsIn(kind, scenario.Id))
        {
            Console.Error.WriteLine($"usage: {Usage}");
            return 2;
        }

        var sink = new BatchSink(scenario.Items);
        var settings = new BatchSettings(100, TimeSpan.FromMilliseconds(10), scenario.Requests, scenario.ConcurrentProducers);
        // A small run, then a full one: with ReadyToRun code off (as the profile script runs it), tiering takes longer.
        await RunOnceAsync(scenario.WarmUp(), kind, sink, settings, label: null);
        await RunOnceAsync(scenario, kind, sink, settings, label: null);
        for (int run = 1; run <= runs; run++)
        {
            await RunOnceAsync(scenario, kind, sink, settings, label: run.ToString(CultureInfo.InvariantCulture));
        }

        return 0;
    }

    private static async Task RunOnceAsync(Scenario scenario, ImplementationKind kind, BatchSink sink, BatchSettings settings, string? label)
    {
        sink.Prepare(scenario.Items, scenario.SampleShift, latencyAtHandler: !scenario.Requests);
        IBatchingImplementation implementation = ImplementationFactory.Create(kind, sink, settings);
        RunResult result;
        try
        {
            result = await scenario.RunAsync(implementation, sink);
        }
        finally
        {
            await implementation.DisposeAsync();
        }

        if (label is null)
        {
            return;
        }

        // On Linux, Stopwatch timestamps are CLOCK_MONOTONIC nanoseconds: the clock of `perf record -k CLOCK_MONOTONIC`.
        double Seconds(long timestamp) => (double)timestamp / Stopwatch.Frequency;
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{RunLinePrefix} run={label} scenario={scenario.Id} implementation={kind} jobs={result.Items} " +
            $"items_per_second={result.ItemsPerSecond:F0} cpu_ns_per_job={result.CpuNsPerItem:F1} " +
            $"window={Seconds(result.StartTimestamp):F6},{Seconds(result.EndTimestamp):F6}"));
    }
}
