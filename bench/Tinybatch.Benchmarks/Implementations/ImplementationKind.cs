namespace Tinybatch.Benchmarks.Implementations;

/// <summary>The implementations the comparison runs, in the order each round runs them.</summary>
internal enum ImplementationKind
{
    Tinybatch,
    TinybatchAdaptive,
    Dataflow,
    Rx,
    Channel,
}
