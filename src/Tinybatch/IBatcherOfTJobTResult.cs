namespace Tinybatch;

/// <summary>
/// What application code needs from a batcher whose jobs have results: everything of <see cref="IBatcher{TJob}"/>,
/// plus adding a job and awaiting its own result.
/// </summary>
/// <typeparam name="TJob">The job type.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
public interface IBatcher<TJob, TResult> : IBatcher<TJob>
{
    /// <summary>Adds a job and waits for its own result.</summary>
    /// <param name="job">The job.</param>
    /// <param name="cancellationToken">
    /// Cancels this caller's wait. A job not dispatched yet is removed (counted as canceled); a job already dispatched is
    /// still processed, but this caller stops waiting for its result.
    /// </param>
    /// <returns>The job's result.</returns>
    ValueTask<TResult> AddAndWaitAsync(TJob job, CancellationToken cancellationToken = default);
}
