namespace Tinybatch.Benchmarks.Compare;

/// <summary>The command line of <c>compare</c>: sizes of each scenario, rounds, and outputs.</summary>
internal sealed record CompareOptions(
    bool Quick,
    int Rounds,
    long S1Items,
    long S2Items,
    long S3Requests,
    TimeSpan S3SteadyDuration,
    long S4Items,
    string? JsonPath,
    IReadOnlySet<string> OnlyScenarios,
    IReadOnlySet<string> OnlyImplementations,
    bool AllocationProfile)
{
    public const string Usage =
        "compare [--quick] [--json PATH] [--rounds N] [--steady-seconds S] [--scenario S1,S1-bulk,S2-4,S2-16,S3,S3-steady,S4] " +
        "[--impl Tinybatch,TinybatchAdaptive,Dataflow,Rx,Channel,ChannelDrain,Floor,HandoffFloor] [--alloc-profile]";

    /// <summary>The shortest steady-state round: shorter ones measure the start more than the steady state.</summary>
    public const double MinSteadySeconds = 1;

    public static CompareOptions Parse(IReadOnlyList<string> args)
    {
        bool quick = args.Contains("--quick");
        int rounds = quick ? 3 : 5;
        double? steadySeconds = null;
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
                case "--steady-seconds":
                    steadySeconds = double.Parse(Value(args, ref i), System.Globalization.CultureInfo.InvariantCulture);
                    if (steadySeconds < MinSteadySeconds)
                    {
                        throw new ArgumentException($"--steady-seconds must be at least {MinSteadySeconds}.");
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

        // S3-steady: 3 s per round by default, 1 s in quick mode (the shortest allowed).
        TimeSpan steady = TimeSpan.FromSeconds(steadySeconds ?? (quick ? MinSteadySeconds : 3));
        return quick
            ? new CompareOptions(true, rounds, 2_000_000, 2_000_000, 200_000, steady, 300, json, only, implementations, allocationProfile)
            : new CompareOptions(false, rounds, 10_000_000, 5_000_000, 500_000, steady, 1_000, json, only, implementations, allocationProfile);
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
