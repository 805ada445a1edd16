namespace Tinybatch;

/// <summary>
/// A batch handler as a type, for dependency injection: it reports each job's outcome on the
/// <see cref="Batch{TJob, TResult}"/> (or all results at once with <see cref="Batch{TJob, TResult}.SetResults"/>).
/// </summary>
/// <typeparam name="TJob">The job type.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
public interface IBatchHandler<TJob, TResult>
{
    /// <summary>Processes one batch.</summary>
    /// <param name="batch">The batch: its jobs, and where to report their outcomes.</param>
    /// <param name="cancellationToken">Cancelled only when a stop deadline (or the handler timeout) expires.</param>
    /// <returns>A task that completes when the batch is processed. An exception fails every job without an outcome.</returns>
    ValueTask HandleAsync(Batch<TJob, TResult> batch, CancellationToken cancellationToken);
}
