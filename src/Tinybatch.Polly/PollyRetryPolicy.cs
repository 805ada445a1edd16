using Polly;
using Polly.Registry;
using Polly.Retry;
using Polly.Testing;
using Tinybatch.Polly.Internal;

namespace Tinybatch.Polly;

/// <summary>
/// A <see cref="RetryPolicy"/> that takes each retry's delay, and whether a reason is worth retrying, from a Polly
/// retry strategy: <see cref="RetryStrategyOptions{TResult}.BackoffType"/>, <see cref="RetryStrategyOptions{TResult}.Delay"/>,
/// <see cref="RetryStrategyOptions{TResult}.MaxDelay"/>, <see cref="RetryStrategyOptions{TResult}.UseJitter"/>,
/// <see cref="RetryStrategyOptions{TResult}.DelayGenerator"/> and <see cref="RetryStrategyOptions{TResult}.ShouldHandle"/>.
/// The strategy comes from its options, from a <see cref="ResiliencePipeline"/>, or from Polly's registry by key.
/// The batcher, not Polly, waits out the delay, on its own <see cref="BatcherOptions.TimeProvider"/>, so a stop
/// deadline cuts a pending retry short.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="RetryPolicy.MaxAttempts"/> is <see cref="RetryStrategyOptions{TResult}.MaxRetryAttempts"/> plus one (the
/// first attempt). Polly's jittered exponential backoff carries state from one retry to the next; since a batcher
/// retries jobs one attempt at a time, the policy replays the earlier attempts of the job through a Polly pipeline
/// built from the strategy's options, without waiting, and takes the delay Polly computes for the one asked about.
/// </para>
/// <para>
/// The batcher awaits <see cref="GetDelayAsync"/> and <see cref="ShouldRetryAsync"/>, so the options' callbacks
/// (<c>ShouldHandle</c>, <c>DelayGenerator</c>, <c>OnRetry</c>) may be truly asynchronous: nothing blocks on them. The
/// synchronous <see cref="GetDelay"/>, <see cref="ShouldRetry"/> and <see cref="CanRetry"/> work only when those
/// callbacks complete synchronously, and throw <see cref="InvalidOperationException"/> otherwise.
/// </para>
/// <para>
/// <see cref="RetryStrategyOptions{TResult}.OnRetry"/> is called once per real retry (not for replayed attempts),
/// with the job's reason as the outcome. The outcome's context is the replay's own, not the batch's.
/// </para>
/// </remarks>
public class PollyRetryPolicy : RetryPolicy
{
    private readonly RetryReplay _replay;

    /// <summary>Creates a policy from a Polly retry strategy's options. The options are read once, here.</summary>
    /// <param name="options">The Polly retry options.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="System.ComponentModel.DataAnnotations.ValidationException">Polly rejects the options.</exception>
    public PollyRetryPolicy(RetryStrategyOptions options)
        : this((RetryStrategyOptions<object>)(options ?? throw new ArgumentNullException(nameof(options))))
    {
    }

    /// <summary>
    /// Creates a policy from the retry strategy of a Polly pipeline: its options are read once, here. The pipeline's
    /// other strategies play no part (the batcher runs the handler; the pipeline only decides retries).
    /// </summary>
    /// <param name="pipeline">A pipeline with a retry strategy, e.g. <c>new ResiliencePipelineBuilder().AddRetry(...).Build()</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="pipeline"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="pipeline"/> has no retry strategy.</exception>
    public PollyRetryPolicy(ResiliencePipeline pipeline)
        : this(RetryOptionsOf(pipeline ?? throw new ArgumentNullException(nameof(pipeline)), nameof(pipeline)))
    {
    }

    /// <summary>
    /// Creates a policy from the retry strategy of the pipeline registered in Polly's registry under <paramref name="key"/>
    /// (for example with <c>services.AddResiliencePipeline(key, ...)</c>). The pipeline is read once, here.
    /// </summary>
    /// <param name="provider">Polly's pipeline provider (the registry).</param>
    /// <param name="key">The pipeline's key.</param>
    /// <exception cref="ArgumentNullException"><paramref name="provider"/> or <paramref name="key"/> is null.</exception>
    /// <exception cref="KeyNotFoundException">No pipeline is registered under <paramref name="key"/>.</exception>
    /// <exception cref="ArgumentException">The pipeline has no retry strategy.</exception>
    public PollyRetryPolicy(ResiliencePipelineProvider<string> provider, string key)
        : this(RetryOptionsOf(GetPipeline(provider, key), nameof(key)))
    {
    }

    private PollyRetryPolicy(RetryStrategyOptions<object> options)
    {
        _replay = new RetryReplay(options);
        MaxAttempts = options.MaxRetryAttempts == int.MaxValue ? int.MaxValue : options.MaxRetryAttempts + 1;
    }

    /// <summary>Returns the delay Polly gives the retry of a job before <paramref name="nextAttempt"/>.</summary>
    /// <param name="nextAttempt">The attempt about to be made: 2 for the first retry.</param>
    /// <param name="reason">Why the previous attempt did not succeed, if known.</param>
    /// <param name="cancellationToken">Cancels the computation.</param>
    /// <returns>
    /// The delay; zero when Polly would not retry this reason (the batcher asks <see cref="ShouldRetryAsync"/> first,
    /// so such a job fails at once instead).
    /// </returns>
    public override async ValueTask<TimeSpan> GetDelayAsync(int nextAttempt, Exception? reason, CancellationToken cancellationToken)
    {
        (bool retries, TimeSpan delay) = await RunAsync(nextAttempt, reason, notify: true, cancellationToken).ConfigureAwait(false);
        return retries ? delay : TimeSpan.Zero;
    }

    /// <summary>Applies the strategy's <c>ShouldHandle</c>: a reason Polly would not retry fails the job at once.</summary>
    /// <param name="nextAttempt">The attempt that would be made: 2 for the first retry.</param>
    /// <param name="reason">Why the previous attempt did not succeed, if known.</param>
    /// <param name="cancellationToken">Cancels the computation.</param>
    /// <returns>Whether Polly would retry.</returns>
    public override ValueTask<bool> ShouldRetryAsync(int nextAttempt, Exception? reason, CancellationToken cancellationToken) =>
        CanRetryAsync(nextAttempt, reason, cancellationToken);

    /// <summary>
    /// Returns whether Polly would retry after <paramref name="reason"/> before <paramref name="nextAttempt"/>: its
    /// <see cref="RetryStrategyOptions{TResult}.ShouldHandle"/> accepts the reason and attempts are left. A handler
    /// can fail non-retryable jobs at once with it (see <see cref="PollyBatchExtensions.RetryOrFailAsync"/>).
    /// </summary>
    /// <param name="nextAttempt">The attempt about to be made: 2 for the first retry.</param>
    /// <param name="reason">Why the previous attempt did not succeed, if known.</param>
    /// <param name="cancellationToken">Cancels the computation.</param>
    /// <returns><see langword="true"/> if Polly would retry.</returns>
    public async ValueTask<bool> CanRetryAsync(int nextAttempt, Exception? reason, CancellationToken cancellationToken = default) =>
        (await RunAsync(nextAttempt, reason, notify: false, cancellationToken).ConfigureAwait(false)).Retries;

    /// <summary>As <see cref="GetDelayAsync"/>, for callers that cannot await.</summary>
    /// <param name="nextAttempt">The attempt about to be made: 2 for the first retry.</param>
    /// <param name="reason">Why the previous attempt did not succeed, if known.</param>
    /// <returns>The delay; zero when Polly would not retry this reason.</returns>
    /// <exception cref="InvalidOperationException">A callback of the strategy completed asynchronously: call <see cref="GetDelayAsync"/>.</exception>
    public override TimeSpan GetDelay(int nextAttempt, Exception? reason) =>
        Synchronously(GetDelayAsync(nextAttempt, reason, CancellationToken.None), nameof(GetDelayAsync));

    /// <summary>As <see cref="ShouldRetryAsync"/>, for callers that cannot await.</summary>
    /// <param name="nextAttempt">The attempt that would be made: 2 for the first retry.</param>
    /// <param name="reason">Why the previous attempt did not succeed, if known.</param>
    /// <returns>Whether Polly would retry.</returns>
    /// <exception cref="InvalidOperationException">A callback of the strategy completed asynchronously: call <see cref="ShouldRetryAsync"/>.</exception>
    public override bool ShouldRetry(int nextAttempt, Exception? reason) => CanRetry(nextAttempt, reason);

    /// <summary>As <see cref="CanRetryAsync"/>, for callers that cannot await (such as <see cref="PollyBatchExtensions.RetryOrFail"/>).</summary>
    /// <param name="nextAttempt">The attempt about to be made: 2 for the first retry.</param>
    /// <param name="reason">Why the previous attempt did not succeed, if known.</param>
    /// <returns><see langword="true"/> if Polly would retry.</returns>
    /// <exception cref="InvalidOperationException">A callback of the strategy completed asynchronously: call <see cref="CanRetryAsync"/>.</exception>
    public bool CanRetry(int nextAttempt, Exception? reason) =>
        Synchronously(CanRetryAsync(nextAttempt, reason, CancellationToken.None), nameof(CanRetryAsync));

    private static T Synchronously<T>(ValueTask<T> pending, string asyncName)
    {
        if (pending.IsCompleted)
        {
            return pending.GetAwaiter().GetResult();
        }

        // Never block on it: observe its outcome in the background and tell the caller to await instead.
        _ = pending.AsTask().ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        throw new InvalidOperationException(
            $"A callback of the Polly retry strategy completed asynchronously, so the answer is not known yet; call {asyncName} and await it.");
    }

    private static ResiliencePipeline GetPipeline(ResiliencePipelineProvider<string> provider, string key)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(key);
        return provider.GetPipeline(key);
    }

    private static RetryStrategyOptions<object> RetryOptionsOf(ResiliencePipeline pipeline, string parameterName)
    {
        foreach (ResilienceStrategyDescriptor strategy in pipeline.GetPipelineDescriptor().Strategies)
        {
            if (strategy.Options is RetryStrategyOptions<object> retry)
            {
                return retry;
            }
        }

        throw new ArgumentException("The Polly pipeline has no retry strategy (AddRetry) to take the retry delays from.", parameterName);
    }

    private ValueTask<(bool Retries, TimeSpan Delay)> RunAsync(int nextAttempt, Exception? reason, bool notify, CancellationToken cancellationToken)
    {
        if (nextAttempt < 2 || nextAttempt > MaxAttempts)
        {
            // Attempt 1 is never a retry; past MaxAttempts, Polly would not retry.
            return new((nextAttempt < 2, TimeSpan.Zero));
        }

        return _replay.RunAsync(nextAttempt, reason, notify, cancellationToken);
    }
}
