namespace Tinybatch.EventStream;

/// <summary>What the per-row baseline did.</summary>
/// <param name="Written">Events written, one INSERT each.</param>
/// <param name="RowsVerified">Rows counted back from its table.</param>
/// <param name="Elapsed">Time spent writing.</param>
/// <param name="StoppedEarly">Why it wrote fewer events than the batched run, or <see langword="null"/> if it wrote them all.</param>
internal sealed record BaselineResult(long Written, long RowsVerified, TimeSpan Elapsed, string? StoppedEarly)
{
    /// <summary>Gets the committed events per second.</summary>
    public double EventsPerSecond => Elapsed > TimeSpan.Zero ? Written / Elapsed.TotalSeconds : 0;
}
