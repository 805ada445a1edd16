using System.Diagnostics;
using Tinybatch.Benchmarks.Implementations;
using Tinybatch.Benchmarks.Scenarios;

namespace Tinybatch.Benchmarks.Compare;

/// <summary>
/// Runs every scenario in one process, interleaving the implementations (A B C D E, A B C D E, ...) so that a noisy
/// neighbour or a slow phase of the machine hits all of them alike, then takes medians over the rounds.
/// </summary>
internal static class CompareRunner
{
    private static ImplementationKind[] s_kinds = Enum.GetValues<ImplementationKind>();
    private static AllocationProfiler? s_profiler;

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        CompareOptions options = CompareOptions.Parse(args);
        List<Scenario> scenarios = Scenarios(options);
        if (options.OnlyImplementations.Count > 0)
        {
            s_kinds = s_kinds.Where(k => options.OnlyImplementations.Contains(k.ToString())).ToArray();
        }

        if (scenarios.Count == 0 || s_kinds.Length == 0)
        {
            throw new ArgumentException($"No scenario or implementation left to run. Usage: {CompareOptions.Usage}");
        }

        using AllocationProfiler? profiler = options.AllocationProfile ? new AllocationProfiler() : null;
        s_profiler = profiler;
        var sink = new BatchSink(scenarios.Max(s => s.Items));
        var total = Stopwatch.StartNew();
        Console.WriteLine($"# Tinybatch compare ({(options.Quick ? "quick" : "full")}, {options.Rounds} rounds, {Environment.ProcessorCount} cores, .NET {Environment.Version})");
        var measurements = new List<Measurement>();
        foreach (Scenario scenario in scenarios)
        {
            Console.WriteLine($"{scenario.Id}: {scenario.Title}, {scenario.Items:N0} items per run");
            await RunRoundAsync(scenario.WarmUp(), sink, round: 0);
            ImplementationKind[] kinds = s_kinds.Where(k => ImplementationFactory.RunsIn(k, scenario.Id)).ToArray();
            var runs = kinds.ToDictionary(k => k, _ => new List<RunResult>());
            var failures = new Dictionary<ImplementationKind, string>();
            for (int round = 1; round <= options.Rounds; round++)
            {
                foreach ((ImplementationKind kind, RunResult? result, string? failure) in await RunRoundAsync(scenario, sink, round))
                {
                    if (result is not null)
                    {
                        runs[kind].Add(result);
                    }
                    else
                    {
                        failures.TryAdd(kind, failure!);
                    }
                }
            }

            foreach (ImplementationKind kind in kinds)
            {
                // A failed run (lost or duplicated item, exception) disqualifies the pair: no median of the runs that passed.
                measurements.Add(failures.TryGetValue(kind, out string? failure)
                    ? Measurement.Failure(scenario.Id, scenario.Title, kind, failure)
                    : Median(scenario, kind, runs[kind]));
            }
        }

        Console.WriteLine();
        Console.WriteLine(Report.Markdown(measurements, options, total.Elapsed));
        if (options.JsonPath is not null)
        {
            Report.WriteJson(options.JsonPath, measurements);
            Console.WriteLine($"JSON written to {options.JsonPath}");
        }

        List<Measurement> failed = measurements.Where(m => m.FailureMessage is not null).ToList();
        foreach (Measurement m in failed)
        {
            Console.Error.WriteLine($"FAILED: {m.Scenario} {m.Implementation}: {m.FailureMessage}");
        }

        return failed.Count == 0 ? 0 : 1;
    }

    internal static List<Scenario> Scenarios(CompareOptions options)
    {
        var all = new List<Scenario>
        {
            new ThroughputScenario("S1", 1, options.S1Items),
            new ThroughputScenario("S1-bulk", 1, options.S1Items, bulk: 100),
            new ThroughputScenario("S2-4", 4, options.S2Items),
            new ThroughputScenario("S2-16", 16, options.S2Items),
            new RequestScenario("S3", 1000, options.S3Requests),
            new SteadyRequestScenario("S3-steady", 1000, options.S3SteadyDuration),
            new LowLoadScenario("S4", options.S4Items),
        };
        return options.OnlyScenarios.Count == 0 ? all : all.Where(s => options.OnlyScenarios.Contains(s.Id)).ToList();
    }

    private static async Task<List<(ImplementationKind Kind, RunResult? Result, string? Failure)>> RunRoundAsync(Scenario scenario, BatchSink sink, int round)
    {
        var settings = new BatchSettings(100, TimeSpan.FromMilliseconds(10), scenario.Requests, scenario.ConcurrentProducers);
        var results = new List<(ImplementationKind, RunResult?, string?)>();
        foreach (ImplementationKind kind in s_kinds.Where(k => ImplementationFactory.RunsIn(k, scenario.Id)))
        {
            sink.Prepare(scenario.Items, scenario.SampleShift, latencyAtHandler: !scenario.Requests);
            IBatchingImplementation implementation = ImplementationFactory.Create(kind, sink, settings);
            RunResult result;
            s_profiler?.Reset();
            try
            {
                result = await scenario.RunAsync(implementation, sink);
            }
            catch (Exception ex)
            {
                // Loud, but the other implementations still get measured; the run exits with 1 and the table says FAILED.
                string failure = $"{ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}";
                Console.Error.WriteLine($"  FAILED {(round == 0 ? "warm-up" : $"round {round}")} {implementation.Name}: {ex}");
                results.Add((kind, null, failure));
                continue;
            }
            finally
            {
                await DisposeQuietlyAsync(implementation);
            }

            results.Add((kind, result, null));
            Console.WriteLine(
                $"  {(round == 0 ? "warm-up" : $"round {round}"),-8} {implementation.Name,-26} {result.ItemsPerSecond,14:N0}/s " +
                $"{result.AllocatedBytesPerItem,8:F1} B/item  p50 {result.P50Us,9:F1} µs  p99 {result.P99Us,9:F1} µs  " +
                $"batch {result.MeanBatchSize,6:F1}  cpu {result.CpuNsPerItem,7:F0} ns/item{(result.FullWaits > 0 ? $"  full waits {result.FullWaits:N0}" : "")}");
            if (s_profiler is not null)
            {
                foreach ((string type, long bytes) in s_profiler.Top(6))
                {
                    Console.WriteLine($"      sampled allocations: {(double)bytes / result.Items,8:F2} B/item  {type}");
                }
            }
        }

        return results;
    }

    private static async Task DisposeQuietlyAsync(IBatchingImplementation implementation)
    {
        try
        {
            await implementation.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"  dispose of {implementation.Name} failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private static Measurement Median(Scenario scenario, ImplementationKind kind, List<RunResult> runs) => new(
        scenario.Id,
        scenario.Title,
        kind,
        MedianOf(runs, r => r.ItemsPerSecond),
        MedianOf(runs, r => r.AllocatedBytesPerItem),
        MedianOf(runs, r => r.P50Us),
        MedianOf(runs, r => r.P99Us),
        MedianOf(runs, r => r.P999Us),
        MedianOf(runs, r => r.MeanBatchSize),
        (long)MedianOf(runs, r => r.FullWaits),
        MedianOf(runs, r => r.CpuNsPerItem),
        runs.Count);

    private static double MedianOf(List<RunResult> runs, Func<RunResult, double> figure)
    {
        double[] values = runs.Select(figure).Order().ToArray();
        int middle = values.Length / 2;
        return values.Length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }
}
