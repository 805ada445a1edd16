namespace Tinybatch.Benchmarks.Implementations;

/// <summary>Builds a fresh implementation for one run.</summary>
internal static class ImplementationFactory
{
    public static IBatchingImplementation Create(ImplementationKind kind, BatchSink sink, BatchSettings settings) => kind switch
    {
        ImplementationKind.Tinybatch => new TinybatchImplementation(sink, settings, BatchingMode.Fixed),
        ImplementationKind.TinybatchAdaptive => new TinybatchImplementation(sink, settings, BatchingMode.Adaptive),
        ImplementationKind.Dataflow => new AnchorImplementation(DisplayName(kind), sink, settings, new DataflowPipelines()),
        ImplementationKind.Rx => new AnchorImplementation(DisplayName(kind), sink, settings, new RxPipelines()),
        ImplementationKind.Channel => new AnchorImplementation(DisplayName(kind), sink, settings, new ChannelPipelines()),
        ImplementationKind.ChannelDrain => new AnchorImplementation(DisplayName(kind), sink, settings, new ChannelDrainPipelines()),
        ImplementationKind.Floor => new FloorImplementation(sink, settings),
        ImplementationKind.HandoffFloor => new HandoffFloorImplementation(sink),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown implementation."),
    };

    public static bool IsTinybatch(ImplementationKind kind) =>
        kind is ImplementationKind.Tinybatch or ImplementationKind.TinybatchAdaptive;

    /// <summary>Whether the kind is an anchor: something a user would otherwise pick, and a term of the ratios.</summary>
    public static bool IsAnchor(ImplementationKind kind) =>
        kind is ImplementationKind.Dataflow or ImplementationKind.Rx or ImplementationKind.Channel or ImplementationKind.ChannelDrain;

    /// <summary>
    /// Whether the kind takes part in a scenario: the thread-pool hand-off floor only makes sense at low load, the
    /// spinning single-queue floor only for fire-and-forget throughput (it has no per-item result, and at low load its
    /// spin would be all it measures).
    /// </summary>
    public static bool RunsIn(ImplementationKind kind, string scenario) => kind switch
    {
        ImplementationKind.HandoffFloor => scenario == "S4",
        ImplementationKind.Floor => scenario is "S1" or "S1-bulk" or "S2-4" or "S2-16",
        _ => true,
    };

    public static string DisplayName(ImplementationKind kind) => kind switch
    {
        ImplementationKind.Tinybatch => "Tinybatch",
        ImplementationKind.TinybatchAdaptive => "Tinybatch (adaptive)",
        ImplementationKind.Dataflow => "Dataflow BatchBlock+timer",
        ImplementationKind.Rx => "Rx Buffer",
        ImplementationKind.Channel => "Channel+delay",
        ImplementationKind.ChannelDrain => "Channel drain (no timer)",
        ImplementationKind.Floor => "Floor",
        ImplementationKind.HandoffFloor => "Thread-pool hand-off (floor)",
        _ => kind.ToString(),
    };
}
