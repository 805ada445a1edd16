namespace Tinybatch.EventStream;

/// <summary>What the sink-alone run of <c>--compare</c> did: the store's own speed, with no batcher and no producers.</summary>
/// <param name="Written">Events written.</param>
/// <param name="RowsVerified">Rows counted back from its table.</param>
/// <param name="Elapsed">Time spent writing, from the first transaction to the last commit.</param>
/// <param name="BatchSize">Events per transaction (the last one may hold fewer).</param>
/// <param name="Writers">Transactions written at once.</param>
internal sealed record SinkAloneResult(long Written, long RowsVerified, TimeSpan Elapsed, int BatchSize, int Writers)
{
    /// <summary>Gets the committed events per second.</summary>
    public double EventsPerSecond => Elapsed > TimeSpan.Zero ? Written / Elapsed.TotalSeconds : 0;
}
