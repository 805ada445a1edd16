namespace Tinybatch.Benchmarks.Diagnostics;

/// <summary>
/// <c>diag handoff | producers | fairness</c>: the small experiments behind the explanations in docs/PERFORMANCE.md,
/// kept here so that every figure quoted there can be rerun. None of them is a comparison; <c>compare</c> is.
/// </summary>
internal static class DiagRunner
{
    public const string Usage = "diag handoff | producers | fairness";

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        switch (args.Count == 1 ? args[0] : null)
        {
            case "handoff":
                HandoffDiag.Run();
                return 0;
            case "producers":
                ProducerContentionDiag.Run();
                return 0;
            case "fairness":
                await FairnessDiag.RunAsync();
                return 0;
            default:
                Console.Error.WriteLine($"usage: {Usage}");
                return 2;
        }
    }
}
