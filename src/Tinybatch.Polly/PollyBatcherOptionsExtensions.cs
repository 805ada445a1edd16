using Polly.Retry;

namespace Tinybatch.Polly;

/// <summary>Configures a batcher to take its retry delays from Polly.</summary>
public static class PollyBatcherOptionsExtensions
{
    /// <summary>
    /// Sets <see cref="BatcherOptions{TJob, TResult}.Retry"/> to a <see cref="PollyRetryPolicy"/> built from
    /// <paramref name="retry"/>: up to <see cref="RetryStrategyOptions{TResult}.MaxRetryAttempts"/> retries per job,
    /// each delayed as Polly's backoff and jitter say.
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="options">The batcher options to change.</param>
    /// <param name="retry">The Polly retry options.</param>
    /// <param name="retryFailedBatches">Whether the jobs of a batch whose handler threw are retried too (<see cref="RetryPolicy.RetryFailedBatches"/>).</param>
    /// <returns>The policy, for handlers that call <see cref="PollyBatchExtensions.RetryOrFail"/>.</returns>
    public static PollyRetryPolicy UsePollyRetry<TJob, TResult>(
        this BatcherOptions<TJob, TResult> options, RetryStrategyOptions retry, bool retryFailedBatches = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        var policy = new PollyRetryPolicy(retry) { RetryFailedBatches = retryFailedBatches };
        options.Retry = policy;
        return policy;
    }
}
