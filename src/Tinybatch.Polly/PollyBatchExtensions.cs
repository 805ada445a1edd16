namespace Tinybatch.Polly;

/// <summary>Handler helpers for batches whose batcher retries with a <see cref="PollyRetryPolicy"/>.</summary>
public static class PollyBatchExtensions
{
    /// <summary>
    /// Asks for the job at <paramref name="index"/> to be retried if <paramref name="policy"/> would retry
    /// <paramref name="reason"/>; otherwise fails it at once with <paramref name="reason"/>. A job out of attempts is
    /// handed to <see cref="Batch{TJob}.Retry"/>, so it ends as retries exhausted, with the last reason.
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="batch">The batch.</param>
    /// <param name="index">The position of the job in the batch.</param>
    /// <param name="reason">Why the job did not succeed.</param>
    /// <param name="policy">The batcher's retry policy.</param>
    /// <returns><see langword="true"/> if the job was marked for retry; <see langword="false"/> if it was failed.</returns>
    public static bool RetryOrFail<TJob, TResult>(this Batch<TJob, TResult> batch, int index, Exception reason, PollyRetryPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(reason);
        ArgumentNullException.ThrowIfNull(policy);
        int nextAttempt = batch.GetAttempt(index) + 1;
        if (nextAttempt <= policy.MaxAttempts && !policy.CanRetry(nextAttempt, reason))
        {
            batch.Fail(index, reason);
            return false;
        }

        batch.Retry(index, reason);
        return true;
    }

    /// <summary>
    /// As <see cref="RetryOrFail"/>, awaiting the policy's decision, so that an asynchronous <c>ShouldHandle</c> of the
    /// Polly strategy is awaited rather than blocked on.
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="batch">The batch.</param>
    /// <param name="index">The position of the job in the batch.</param>
    /// <param name="reason">Why the job did not succeed.</param>
    /// <param name="policy">The batcher's retry policy.</param>
    /// <param name="cancellationToken">Cancels the decision (the handler's token).</param>
    /// <returns><see langword="true"/> if the job was marked for retry; <see langword="false"/> if it was failed.</returns>
    public static async ValueTask<bool> RetryOrFailAsync<TJob, TResult>(
        this Batch<TJob, TResult> batch, int index, Exception reason, PollyRetryPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(reason);
        ArgumentNullException.ThrowIfNull(policy);
        int nextAttempt = batch.GetAttempt(index) + 1;
        if (nextAttempt <= policy.MaxAttempts && !await policy.CanRetryAsync(nextAttempt, reason, cancellationToken).ConfigureAwait(false))
        {
            batch.Fail(index, reason);
            return false;
        }

        batch.Retry(index, reason);
        return true;
    }
}
