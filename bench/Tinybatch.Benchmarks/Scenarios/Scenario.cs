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

        sink.VerifyExactlyOnce(implementation.Name);
        (double p50, double p99, double p999) = sink.LatencyPercentilesUs();
        return new RunResult(
            Items,
            elapsed.TotalSeconds,
            allocated,
            p50,
            p99,
            p999,
            (double)sink.Processed / Math.Max(1, sink.Batches),
            implementation.FullWaits,
            cpu.TotalSeconds);
    }

    /// <summary>Sets up producers or callers before the clock starts; they must not start adding yet.</summary>
    protected abstract Task PrepareAsync(IBatchingImplementation implementation, BatchSink sink);

    /// <summary>Releases the producers and completes when every add (or request) has completed.</summary>
    protected abstract Task ProduceAsync(IBatchingImplementation implementation, BatchSink sink);
}
