namespace Tinybatch;

/// <summary>
/// The settings of a <see cref="Batcher{TJob, TResult}"/>: the bindable settings of <see cref="BatcherOptions"/>
/// plus the callbacks that depend on the job and result types.
/// </summary>
/// <typeparam name="TJob">The job type.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
public sealed class BatcherOptions<TJob, TResult> : BatcherOptions
{
    /// <summary>
    /// Gets or sets the weight of a job (for example, the bytes of a serialized event), used with
    /// <see cref="BatcherOptions.MaxBatchWeight"/>. It runs on the producer's thread, once per add.
    /// </summary>
    /// <value>The default is <see langword="null"/>: every job weighs 1.</value>
    public Func<TJob, long>? Weigher { get; set; }

    /// <summary>
    /// Gets or sets a callback that receives every finished batch: its jobs with their outcomes, or the exception
    /// its handler threw. It runs on the thread that finished the batch, one call per batch, before the batch's slot
    /// is given back. The batch is only valid during the call: copy what you keep. An exception it throws is caught and
    /// counted in <see cref="BatcherCounters.CallbackFailures"/>; it affects neither the batcher nor any job's result.
    /// </summary>
    public Action<Batch<TJob, TResult>>? OnBatchCompleted { get; set; }

    /// <summary>
    /// Gets or sets a callback that receives every job that ended without success other than through its caller's
    /// cancellation: failed, retries exhausted, rejected, dropped or abandoned at stop. It runs on the batch's thread, or,
    /// for jobs rejected or dropped while being added, on the thread pool; while such letters pile up faster than the
    /// callback takes them (more than about a thousand), the adding thread delivers one itself, so memory stays bounded.
    /// Calls can therefore overlap: make the callback thread-safe. An exception it throws is caught and counted in
    /// <see cref="BatcherCounters.CallbackFailures"/>. Stop waits until every letter has been delivered.
    /// </summary>
    public Action<DeadLetter<TJob>>? OnDeadLetter { get; set; }

    /// <summary>Gets or sets the retry policy for jobs the handler marks for retry, or for failed batches.</summary>
    /// <value>The default is <see langword="null"/>: a job marked for retry is retried up to 3 attempts in all, with no delay.</value>
    public RetryPolicy? Retry { get; set; }

    /// <summary>
    /// Whether a job left without an outcome when its handler returns succeeds (the result-less
    /// <see cref="Batcher{TJob}"/>) rather than fails.
    /// </summary>
    internal bool UnsetJobsSucceed { get; set; }

    /// <inheritdoc/>
    public override IReadOnlyList<string> Validate()
    {
        var errors = new List<string>(base.Validate());
        Retry?.Validate(errors);
        return errors;
    }

    /// <summary>Copies every setting of this object into <paramref name="target"/>.</summary>
    /// <param name="target">The options to overwrite.</param>
    public void CopyTo(BatcherOptions<TJob, TResult> target)
    {
        base.CopyTo(target);
        target.Weigher = Weigher;
        target.OnBatchCompleted = OnBatchCompleted;
        target.OnDeadLetter = OnDeadLetter;
        target.Retry = Retry;
    }
}
