namespace Tinybatch.Benchmarks.Implementations;

/// <summary>The implementations the comparison runs, in the order each round runs them.</summary>
internal enum ImplementationKind
{
    Tinybatch,
    TinybatchAdaptive,
    Dataflow,
    Rx,
    Channel,

    /// <summary>An unbounded channel whose consumer hands over whatever is queued, up to a batch, with no timer.</summary>
    ChannelDrain,

    /// <summary>
    /// A reference, not an anchor: a bare <c>ConcurrentQueue</c> drained by a consumer thread that spins while idle, the
    /// single-queue floor of a thread-to-thread hand-off (fire-and-forget throughput scenarios only).
    /// </summary>
    Floor,

    /// <summary>A reference, not an anchor: a bare hand-off of each item to the thread pool, run in S4 only.</summary>
    HandoffFloor,
}
