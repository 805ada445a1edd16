namespace Tinybatch;

/// <summary>
/// The settings of a result-less <see cref="Batcher{TJob}"/>: the bindable settings of <see cref="BatcherOptions"/>
/// plus the callbacks that depend on the job type.
/// </summary>
/// <typeparam name="TJob">The job type.</typeparam>
public sealed class BatcherOptions<TJob> : BatcherOptions
{
    /// <summary>
    /// Gets or sets the weight of a job (for example, the bytes of a serialized event), used with
    /// <see cref="BatcherOptions.MaxBatchWeight"/>, <see cref="BatcherOptions.MaxBufferedWeight"/> and
    /// <see cref="BatcherOptions.MaxJobWeight"/>. It runs on the producer's thread, once per add.
    /// </summary>
    /// <value>The default is <see langword="null"/>: every job weighs 1.</value>
    public Func<TJob, long>? Weigher { get; set; }

    /// <summary>
    /// Gets or sets a callback that receives every finished batch with each job's outcome
    /// (<see cref="Batch{TJob}.GetStatus"/>, <see cref="Batch{TJob}.GetException"/>). It runs on the thread that finished
    /// the batch, before the batch's slot is given back; the batch is only valid during the call. An exception it throws
    /// is caught and counted in <see cref="BatcherCounters.CallbackFailures"/>.
    /// </summary>
    public Action<Batch<TJob>>? OnBatchCompleted { get; set; }

    /// <summary>
    /// Gets or sets a callback that receives every job that ended without success: failed, retries exhausted, rejected,
    /// dropped, timed out or abandoned at a stop deadline, with where it was (<see cref="DeadLetter{TJob}.Stage"/>).
    /// Make it thread-safe: calls can overlap. An exception it throws is caught and counted in
    /// <see cref="BatcherCounters.CallbackFailures"/>.
    /// </summary>
    public Action<DeadLetter<TJob>>? OnDeadLetter { get; set; }

    /// <summary>Gets or sets the retry policy for jobs the handler marks for retry, or for failed batches.</summary>
    /// <value>The default is <see langword="null"/>: a job marked for retry is retried up to 3 attempts in all, with no delay.</value>
    public RetryPolicy? Retry { get; set; }

    /// <inheritdoc/>
    public override IReadOnlyList<string> Validate()
    {
        var errors = new List<string>(base.Validate());
        Retry?.Validate(errors);
        return errors;
    }

    /// <summary>Copies every setting of this object into <paramref name="target"/>.</summary>
    /// <param name="target">The options to overwrite.</param>
    public void CopyTo(BatcherOptions<TJob> target)
    {
        ArgumentNullException.ThrowIfNull(target);
        base.CopyTo(target);
        target.Weigher = Weigher;
        target.OnBatchCompleted = OnBatchCompleted;
        target.OnDeadLetter = OnDeadLetter;
        target.Retry = Retry;
    }

    /// <summary>The settings of the engine behind a result-less batcher.</summary>
    internal BatcherOptions<TJob, Internal.NoResult> ToEngineOptions()
    {
        var engine = new BatcherOptions<TJob, Internal.NoResult>
        {
            Weigher = Weigher,
            OnBatchCompleted = OnBatchCompleted,
            OnDeadLetter = OnDeadLetter,
            Retry = Retry,
            UnsetJobsSucceed = true,
        };
        CopyTo((BatcherOptions)engine);
        return engine;
    }
}
