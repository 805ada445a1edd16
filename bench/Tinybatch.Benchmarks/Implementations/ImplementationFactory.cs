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
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown implementation."),
    };

    public static bool IsTinybatch(ImplementationKind kind) =>
        kind is ImplementationKind.Tinybatch or ImplementationKind.TinybatchAdaptive;

    public static string DisplayName(ImplementationKind kind) => kind switch
    {
        ImplementationKind.Tinybatch => "Tinybatch",
        ImplementationKind.TinybatchAdaptive => "Tinybatch (adaptive)",
        ImplementationKind.Dataflow => "Dataflow BatchBlock+timer",
        ImplementationKind.Rx => "Rx Buffer",
        ImplementationKind.Channel => "Channel+delay",
        _ => kind.ToString(),
    };
}
