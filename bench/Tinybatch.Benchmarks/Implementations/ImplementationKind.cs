namespace Tinybatch.Benchmarks.Implementations;

/// <summary>The implementations the comparison runs, in the order each round runs them.</summary>
internal enum ImplementationKind
{
    Tinybatch,
    TinybatchAdaptive,
    Dataflow,
    Rx,
    Channel,

    /// <summary>A reference, not an anchor: a bare hand-off of each item to the thread pool, run in S4 only.</summary>
    HandoffFloor,
}
