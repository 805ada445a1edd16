namespace Tinybatch.Benchmarks.Scenarios;

/// <summary>
/// The figures of one run of one implementation in one scenario. <see cref="StartTimestamp"/> and
/// <see cref="EndTimestamp"/> bound the measured window in <see cref="System.Diagnostics.Stopwatch"/> ticks
/// (CLOCK_MONOTONIC on Linux), so that a profiler's samples can be cut to it.
/// </summary>
internal sealed record RunResult(
    long Items,
    double Seconds,
    long AllocatedBytes,
    double P50Us,
    double P99Us,
    double P999Us,
    double MeanBatchSize,
    long FullWaits,
    double CpuSeconds,
    long StartTimestamp = 0,
    long EndTimestamp = 0)
{
    /// <summary>Gets the CPU time the whole process spent per item, every thread included: less sensitive than items/s to a busy machine.</summary>
    public double CpuNsPerItem => CpuSeconds * 1e9 / Items;

    public double ItemsPerSecond => Items / Seconds;

    public double AllocatedBytesPerItem => (double)AllocatedBytes / Items;
}
