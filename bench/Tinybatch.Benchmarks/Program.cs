using BenchmarkDotNet.Running;
using Tinybatch.Benchmarks.Compare;
using Tinybatch.Benchmarks.Diagnostics;

namespace Tinybatch.Benchmarks;

/// <summary>
/// Entry point. <c>micro [BenchmarkDotNet args]</c> runs the microbenchmarks through BenchmarkSwitcher;
/// <c>compare [--quick] [--json PATH]</c> runs the side-by-side comparison with the anchors; <c>diag</c> runs the
/// experiments that explain it.
/// </summary>
internal static class Program
{
    private const string Usage =
        "usage: Tinybatch.Benchmarks micro [BenchmarkDotNet args] | " + CompareOptions.Usage + " | dataloader | " + DiagRunner.Usage +
        " | " + Profile.ProfileRunner.Usage + " | " + Profile.PhaseBreakdown.Usage;

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        string[] rest = args[1..];
        switch (args[0])
        {
            case "micro":
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest);
                return 0;
            case "compare":
                try
                {
                    return await Streams.StreamBatchComparison.RunCompareAsync(rest, CompareRunner.RunAsync);
                }
                catch (ArgumentException ex)
                {
                    Console.Error.WriteLine(ex.Message);
                    return 2;
                }

            case "dataloader":
                return await DataLoader.DataLoaderBenchmark.RunAsync(rest);
            case "diag":
                return await DiagRunner.RunAsync(rest);
            case "profile":
                return await Profile.ProfileRunner.RunAsync(rest);
            case "phases":
                return Profile.PhaseBreakdown.Run(rest);
            default:
                Console.Error.WriteLine($"Unknown mode '{args[0]}'. {Usage}");
                return 2;
        }
    }
}
