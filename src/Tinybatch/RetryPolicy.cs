namespace Tinybatch;

/// <summary>
/// How jobs are retried: how many attempts a job gets in all, whether a batch whose handler threw is retried, and
/// how long a job waits before it re-enters the queue. Retried jobs go into a later batch.
/// </summary>
/// <remarks>
/// Override <see cref="GetDelay"/> for custom backoff, or use the Polly adapter (<c>Tinybatch.Polly</c>) to take
/// the delays from a Polly retry strategy. Jobs waiting for a retry still count as pending for flush and stop.
/// The batcher copies <see cref="MaxAttempts"/>, <see cref="RetryFailedBatches"/> and, for a plain
/// <see cref="RetryPolicy"/>, <see cref="Delay"/> when it is built; a subclass is kept by reference, since its
/// <see cref="GetDelay"/> is behaviour rather than data.
/// </remarks>
public class RetryPolicy
{
    /// <summary>Gets or sets how many attempts a job gets in all, the first included.</summary>
    /// <value>At least 1. The default is 3.</value>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>
    /// Gets or sets a value indicating whether the jobs of a batch whose handler threw are retried (up to
    /// <see cref="MaxAttempts"/>) rather than failed at once.
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool RetryFailedBatches { get; set; }

    /// <summary>Gets or sets the fixed delay before a retried job re-enters the queue.</summary>
    /// <value>The default is <see cref="TimeSpan.Zero"/>.</value>
    public TimeSpan Delay { get; set; } = TimeSpan.Zero;

    /// <summary>Returns the delay before the given attempt of a job re-enters the queue.</summary>
    /// <param name="nextAttempt">The attempt about to be made: 2 for the first retry.</param>
    /// <param name="reason">Why the previous attempt did not succeed, if known.</param>
    /// <returns>The delay; zero or negative re-queues the job at once.</returns>
    public virtual TimeSpan GetDelay(int nextAttempt, Exception? reason) => Delay;

    /// <summary>
    /// Decides whether a job that was not successful may be retried for this reason at all. When it returns
    /// <see langword="false"/> the job fails at once with <paramref name="reason"/> (dead-letter reason
    /// <see cref="DeadLetterReason.Failed"/>), whatever attempts are left.
    /// </summary>
    /// <param name="nextAttempt">The attempt that would be made: 2 for the first retry.</param>
    /// <param name="reason">Why the previous attempt did not succeed, if known.</param>
    /// <returns><see langword="true"/> (the default) to retry.</returns>
    public virtual bool ShouldRetry(int nextAttempt, Exception? reason) => true;

    /// <summary>
    /// Returns, asynchronously, the delay before the given attempt of a job re-enters the queue. The batcher awaits it
    /// (it never blocks on it) and then owns the waiting, on its <see cref="TimeProvider"/>. The default calls
    /// <see cref="GetDelay"/>.
    /// </summary>
    /// <param name="nextAttempt">The attempt about to be made: 2 for the first retry.</param>
    /// <param name="reason">Why the previous attempt did not succeed, if known.</param>
    /// <param name="cancellationToken">Cancelled when the batcher's stop deadline expires.</param>
    /// <returns>The delay; zero or negative re-queues the job at once.</returns>
    public virtual ValueTask<TimeSpan> GetDelayAsync(int nextAttempt, Exception? reason, CancellationToken cancellationToken) =>
        new(GetDelay(nextAttempt, reason));

    /// <summary>
    /// Decides, asynchronously, whether a job that was not successful may be retried for this reason. The default calls
    /// <see cref="ShouldRetry"/>.
    /// </summary>
    /// <param name="nextAttempt">The attempt that would be made: 2 for the first retry.</param>
    /// <param name="reason">Why the previous attempt did not succeed, if known.</param>
    /// <param name="cancellationToken">Cancelled when the batcher's stop deadline expires.</param>
    /// <returns><see langword="true"/> to retry.</returns>
    public virtual ValueTask<bool> ShouldRetryAsync(int nextAttempt, Exception? reason, CancellationToken cancellationToken) =>
        new(ShouldRetry(nextAttempt, reason));

    internal void Validate(List<string> errors)
    {
        if (MaxAttempts < 1)
        {
            errors.Add($"Retry.{nameof(MaxAttempts)} must be at least 1, but was {MaxAttempts}.");
        }
    }

    /// <summary>The policy the batcher keeps: a copy when it is plain data, the instance itself when a subclass adds behaviour.</summary>
    internal RetryPolicy Freeze() =>
        GetType() == typeof(RetryPolicy)
            ? new RetryPolicy { MaxAttempts = MaxAttempts, RetryFailedBatches = RetryFailedBatches, Delay = Delay }
            : this;
}
