namespace Tinybatch.Benchmarks.Compare;

/// <summary>The command line of <c>compare</c>: sizes of each scenario, rounds, and outputs.</summary>
internal sealed record CompareOptions(
    bool Quick,
    int Rounds,
    long S1Items,
    long S2Items,
    long S3Requests,
    long S4Items,
    string? JsonPath,
    IReadOnlySet<string> OnlyScenarios,
    IReadOnlySet<string> OnlyImplementations,
    bool AllocationProfile)
{
    public const string Usage =
        "compare [--quick] [--json PATH] [--rounds N] [--scenario S1,S2-4,S2-16,S3,S4] " +
        "[--impl Tinybatch,TinybatchAdaptive,Dataflow,Rx,Channel,HandoffFloor] [--alloc-profile]";

    public static CompareOptions Parse(IReadOnlyList<string> args)
    {
        bool quick = args.Contains("--quick");
        int rounds = quick ? 3 : 5;
        string? json = null;
        bool allocationProfile = false;
        var only = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var implementations = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    break;
                case "--json":
                    json = Value(args, ref i);
                    break;
                case "--rounds":
                    rounds = int.Parse(Value(args, ref i), System.Globalization.CultureInfo.InvariantCulture);
                    if (rounds < 1)
                    {
                        throw new ArgumentException("--rounds must be at least 1.");
                    }

                    break;
                case "--scenario":
                    only.UnionWith(Value(args, ref i).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--impl":
                    implementations.UnionWith(Value(args, ref i).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--alloc-profile":
                    allocationProfile = true;
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'. Usage: {Usage}");
            }
        }

        return quick
            ? new CompareOptions(true, rounds, 2_000_000, 2_000_000, 200_000, 300, json, only, implementations, allocationProfile)
            : new CompareOptions(false, rounds, 10_000_000, 5_000_000, 500_000, 1_000, json, only, implementations, allocationProfile);
    }

    private static string Value(IReadOnlyList<string> args, ref int i)
    {
        if (i + 1 >= args.Count)
        {
            throw new ArgumentException($"{args[i]} needs a value. Usage: {Usage}");
        }

        return args[++i];
    }
}
