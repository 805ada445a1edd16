namespace Tinybatch;

/// <summary>How a partial batch (fewer than <see cref="BatcherOptions.MaxBatchSize"/> jobs) is released.</summary>
public enum BatchingMode
{
    /// <summary>
    /// The seed's semantics: a partial batch is dispatched when its first job has waited
    /// <see cref="BatcherOptions.MaxBatchDelay"/>, never earlier (except by flush or stop).
    /// </summary>
    Fixed = 0,

    /// <summary>
    /// Nagle-style linger: when no batch is in flight, pending jobs are dispatched at once; while batches
    /// are in flight, jobs accumulate up to <see cref="BatcherOptions.MaxBatchSize"/> and at most
    /// <see cref="BatcherOptions.MaxBatchDelay"/>. Low latency at low load, big batches under load.
    /// </summary>
    Adaptive = 1,
}
