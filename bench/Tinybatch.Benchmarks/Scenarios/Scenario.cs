using System.Diagnostics;
using Tinybatch.Benchmarks.Implementations;

namespace Tinybatch.Benchmarks.Scenarios;

/// <summary>
/// One workload. A run is timed from the moment producers are released until every item has reached the handler and
/// the implementation has completed; allocation is <see cref="GC.GetTotalAllocatedBytes(bool)"/> over the same window.
/// </summary>
internal abstract class Scenario
{
    /// <summary>A generous guard: a run that loses an item hangs, and must fail loudly instead.</summary>
    protected static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    protected Scenario(string id, string title, long items, int sampleShift, bool requests, bool concurrentProducers)
    {
        Id = id;
        Title = title;
        Items = items;
        SampleShift = sampleShift;
        Requests = requests;
        ConcurrentProducers = concurrentProducers;
    }

    /// <summary>Gets the short id used in the tables and the JSON (S1, S2-4, ...).</summary>
    public string Id { get; }

    public string Title { get; }

    /// <summary>Gets the items of a run; for a run that ends at a deadline, the most it may add (the sink's size).</summary>
    public long Items { get; }

    /// <summary>Gets the latency sampling: one item in 2^SampleShift is timed.</summary>
    public int SampleShift { get; }

    public bool Requests { get; }

    public bool ConcurrentProducers { get; }

    /// <summary>Gets a smaller copy of this scenario for warm-up.</summary>
    public abstract Scenario WarmUp();

    /// <summary>Runs the workload against a fresh implementation whose handler feeds <paramref name="sink"/>.</summary>
    public async Task<RunResult> RunAsync(IBatchingImplementation implementation, BatchSink sink)
    {
        // Garbage of the previous run must not be collected on this run's time.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        await PrepareAsync(implementation, sink);
        long allocatedBefore = GC.GetTotalAllocatedBytes(true);
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        await ProduceAsync(implementation, sink).WaitAsync(HangGuard);
        await implementation.CompleteAsync().WaitAsync(HangGuard);
        await sink.AllSeen.WaitAsync(HangGuard);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        long allocated = GC.GetTotalAllocatedBytes(true) - allocatedBefore;
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;

        Window window = MeasuredWindow(new Window(Items, elapsed.TotalSeconds, allocated, cpu.TotalSeconds, start, start + (long)(elapsed.TotalSeconds * Stopwatch.Frequency)));
        Verify(implementation, sink);
        (double p50, double p99, double p999) = LatencyPercentilesUs(sink);
        return new RunResult(
            window.Items,
            window.Seconds,
            window.AllocatedBytes,
            p50,
            p99,
            p999,
            (double)sink.Processed / Math.Max(1, sink.Batches),
            implementation.FullWaits,
            window.CpuSeconds,
            window.Start,
            window.End);
    }

    /// <summary>Sets up producers or callers before the clock starts; they must not start adding yet.</summary>
    protected abstract Task PrepareAsync(IBatchingImplementation implementation, BatchSink sink);

    /// <summary>Releases the producers and completes when every add (or request) has completed.</summary>
    protected abstract Task ProduceAsync(IBatchingImplementation implementation, BatchSink sink);

    /// <summary>
    /// Gets the part of the run the figures describe: by default all of it, from the release of the producers until
    /// the implementation has completed.
    /// </summary>
    protected virtual Window MeasuredWindow(Window wholeRun) => wholeRun;

    /// <summary>Throws unless every item the run added reached the handler exactly once.</summary>
    protected virtual void Verify(IBatchingImplementation implementation, BatchSink sink) => sink.VerifyExactlyOnce(implementation.Name);

    /// <summary>Gets p50, p99 and p99.9 of the recorded latencies, in microseconds.</summary>
    protected virtual (double P50, double P99, double P999) LatencyPercentilesUs(BatchSink sink) => sink.LatencyPercentilesUs();

    /// <summary>A measured span of a run: the items it counts, its length, and what was allocated and spent in it.</summary>
    protected readonly record struct Window(long Items, double Seconds, long AllocatedBytes, double CpuSeconds, long Start, long End);
}
