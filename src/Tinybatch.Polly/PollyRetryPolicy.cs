using Polly;
using Polly.Retry;

namespace Tinybatch.Polly;

/// <summary>
/// A <see cref="RetryPolicy"/> that takes each retry's delay, and whether a reason is worth retrying, from a Polly
/// <see cref="RetryStrategyOptions"/>: <see cref="RetryStrategyOptions{TResult}.BackoffType"/>,
/// <see cref="RetryStrategyOptions{TResult}.Delay"/>, <see cref="RetryStrategyOptions{TResult}.MaxDelay"/>,
/// <see cref="RetryStrategyOptions{TResult}.UseJitter"/>, <see cref="RetryStrategyOptions{TResult}.DelayGenerator"/>
/// and <see cref="RetryStrategyOptions{TResult}.ShouldHandle"/>. The batcher, not Polly, waits out the delay, on its
/// own <see cref="BatcherOptions.TimeProvider"/>, while the job's place in the buffer stays reserved.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="RetryPolicy.MaxAttempts"/> is <see cref="RetryStrategyOptions{TResult}.MaxRetryAttempts"/> plus one (the
/// first attempt). Polly's jittered exponential backoff carries state from one retry to the next; since a batcher
/// retries jobs one attempt at a time, the policy replays the earlier attempts of the job through a Polly
/// <see cref="ResiliencePipeline"/> without waiting and takes the delay Polly computes for the one asked about. The
/// replay waits for nothing and completes synchronously unless a user callback of the options is truly asynchronous.
/// </para>
/// <para>
/// <see cref="RetryStrategyOptions{TResult}.OnRetry"/> is called once per real retry (not for replayed attempts),
/// with the job's reason as the outcome. The outcome's context is the replay's own, not the batch's.
/// </para>
/// </remarks>
public class PollyRetryPolicy : RetryPolicy
{
    private static readonly ResiliencePropertyKey<Replay> ReplayKey = new("Tinybatch.Polly.Replay");

    private readonly ResiliencePipeline _pipeline;
    private readonly Func<RetryDelayGeneratorArguments<object>, ValueTask<TimeSpan?>>? _delayGenerator;
    private readonly Func<OnRetryArguments<object>, ValueTask>? _onRetry;

    /// <summary>Creates a policy from a Polly retry strategy's options. The options are read once, here.</summary>
    /// <param name="options">The Polly retry options.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="System.ComponentModel.DataAnnotations.ValidationException">Polly rejects the options.</exception>
    public PollyRetryPolicy(RetryStrategyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        MaxAttempts = options.MaxRetryAttempts == int.MaxValue ? int.MaxValue : options.MaxRetryAttempts + 1;
        _delayGenerator = options.DelayGenerator;
        _onRetry = options.OnRetry;

        // Polly computes the delays; the two callbacks below make it skip every wait and report the delay asked for.
        var replay = new RetryStrategyOptions
        {
            Name = options.Name,
            ShouldHandle = options.ShouldHandle,
            MaxRetryAttempts = options.MaxRetryAttempts,
            BackoffType = options.BackoffType,
            Delay = options.Delay,
            MaxDelay = options.MaxDelay,
            UseJitter = options.UseJitter,
            DelayGenerator = GenerateDelayAsync,
            OnRetry = CaptureAsync,
        };
        _pipeline = new ResiliencePipelineBuilder().AddRetry(replay).Build();
    }

    /// <summary>Returns the delay Polly gives the retry of a job before <paramref name="nextAttempt"/>.</summary>
    /// <param name="nextAttempt">The attempt about to be made: 2 for the first retry.</param>
    /// <param name="reason">Why the previous attempt did not succeed, if known.</param>
    /// <returns>
    /// The delay; zero when Polly would not retry this reason (the batcher asks <see cref="ShouldRetry"/> first, so such
    /// a job fails at once instead).
    /// </returns>
    public override TimeSpan GetDelay(int nextAttempt, Exception? reason) =>
        TryGetDelay(nextAttempt, reason, notify: true, out TimeSpan delay) ? delay : TimeSpan.Zero;

    /// <summary>
    /// Returns whether Polly would retry after <paramref name="reason"/> before <paramref name="nextAttempt"/>: its
    /// <see cref="RetryStrategyOptions{TResult}.ShouldHandle"/> accepts the reason and attempts are left. A handler
    /// can fail non-retryable jobs at once with it (see <see cref="PollyBatchExtensions.RetryOrFail"/>).
    /// </summary>
    /// <param name="nextAttempt">The attempt about to be made: 2 for the first retry.</param>
    /// <param name="reason">Why the previous attempt did not succeed, if known.</param>
    /// <returns><see langword="true"/> if Polly would retry.</returns>
    public bool CanRetry(int nextAttempt, Exception? reason) => TryGetDelay(nextAttempt, reason, notify: false, out _);

    /// <summary>Applies the strategy's <c>ShouldHandle</c>: a reason Polly would not retry fails the job at once.</summary>
    /// <param name="nextAttempt">The attempt that would be made: 2 for the first retry.</param>
    /// <param name="reason">Why the previous attempt did not succeed, if known.</param>
    /// <returns>Whether Polly would retry.</returns>
    public override bool ShouldRetry(int nextAttempt, Exception? reason) => CanRetry(nextAttempt, reason);

    /// <summary>Replays the job's attempts through Polly and reports the delay of the retry asked for, if Polly retries.</summary>
    /// <remarks>Only the replay that decides a real retry's delay (<paramref name="notify"/>) calls the user's OnRetry.</remarks>
    private bool TryGetDelay(int nextAttempt, Exception? reason, bool notify, out TimeSpan delay)
    {
        delay = TimeSpan.Zero;
        if (nextAttempt < 2 || nextAttempt > MaxAttempts)
        {
            return nextAttempt < 2;
        }

        using var replay = new Replay(nextAttempt - 2, notify);
        ResilienceContext context = ResilienceContextPool.Shared.Get(replay.Token);
        try
        {
            context.Properties.Set(ReplayKey, replay);
            Exception outcome = reason ?? new InvalidOperationException("The handler asked for a retry without giving a reason.");
            ValueTask<Outcome<object>> run = _pipeline.ExecuteOutcomeAsync(
                static (_, failure) => new ValueTask<Outcome<object>>(Outcome.FromException<object>(failure)), context, outcome);

            // Synchronous unless a user callback of the options is truly asynchronous: then block, since GetDelay is synchronous.
            _ = run.IsCompleted ? run.Result : run.AsTask().GetAwaiter().GetResult();
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        delay = replay.Delay;
        return replay.Captured;
    }

    private ValueTask<TimeSpan?> GenerateDelayAsync(RetryDelayGeneratorArguments<object> args)
    {
        // Earlier attempts are only replayed to advance Polly's jitter state: they wait for nothing.
        if (args.AttemptNumber < args.Context.Properties.GetValue(ReplayKey, null!).Target)
        {
            return new ValueTask<TimeSpan?>(TimeSpan.Zero);
        }

        return _delayGenerator?.Invoke(args) ?? new ValueTask<TimeSpan?>((TimeSpan?)null);
    }

    private ValueTask CaptureAsync(OnRetryArguments<object> args)
    {
        Replay replay = args.Context.Properties.GetValue(ReplayKey, null!);
        if (args.AttemptNumber < replay.Target)
        {
            return default;
        }

        // Cancelling ends the replay before Polly waits: the batcher, not Polly, waits out the delay.
        replay.Capture(args.RetryDelay);
        return replay.Notify ? _onRetry?.Invoke(args) ?? default : default;
    }

    /// <summary>The state of one replay: which retry is asked about, and the delay Polly gave it.</summary>
    private sealed class Replay(int target, bool notify) : IDisposable
    {
        private readonly CancellationTokenSource _done = new();

        public int Target { get; } = target;

        public bool Notify { get; } = notify;

        public CancellationToken Token => _done.Token;

        public TimeSpan Delay { get; private set; }

        public bool Captured { get; private set; }

        public void Capture(TimeSpan delay)
        {
            Delay = delay;
            Captured = true;
            _done.Cancel();
        }

        public void Dispose() => _done.Dispose();
    }
}
