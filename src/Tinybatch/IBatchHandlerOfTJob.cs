namespace Tinybatch;

/// <summary>
/// A batch handler of a result-less <see cref="Batcher{TJob}"/> as a type, for dependency injection. Returning completes
/// every job without a reported outcome; throwing fails them.
/// </summary>
/// <typeparam name="TJob">The job type.</typeparam>
public interface IBatchHandler<TJob>
{
    /// <summary>Processes one batch.</summary>
    /// <param name="batch">The batch: its jobs, and where to report per-job failures and retries.</param>
    /// <param name="cancellationToken">Cancelled only when a stop deadline (or the handler timeout) expires.</param>
    /// <returns>A task that completes when the batch is processed.</returns>
    ValueTask HandleAsync(Batch<TJob> batch, CancellationToken cancellationToken);
}
