namespace Tinybatch.Benchmarks.Implementations;

/// <summary>The settings every implementation gets, so that they batch alike.</summary>
/// <param name="MaxBatchSize">The most items per batch.</param>
/// <param name="MaxBatchDelay">How long a partial batch may wait (a period for the timer-driven anchors).</param>
/// <param name="Requests">True to build the request/response pipeline, false for fire-and-forget.</param>
/// <param name="ConcurrentProducers">True when several threads add at once (Rx then needs Synchronize()).</param>
internal sealed record BatchSettings(int MaxBatchSize, TimeSpan MaxBatchDelay, bool Requests, bool ConcurrentProducers);
