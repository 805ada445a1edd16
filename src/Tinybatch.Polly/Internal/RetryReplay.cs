using Polly;
using Polly.Retry;

namespace Tinybatch.Polly.Internal;

/// <summary>
/// Asks a Polly retry strategy what it would do about one retry of a job, without waiting: the job's earlier attempts
/// are replayed through a pipeline built from the strategy's options (Polly's jittered backoff carries state from one
/// retry to the next), each wait is skipped, and the delay Polly computes for the retry asked about is captured.
/// </summary>
internal sealed class RetryReplay
{
    private static readonly ResiliencePropertyKey<ReplayState> StateKey = new("Tinybatch.Polly.Replay");

    private readonly ResiliencePipeline _pipeline;
    private readonly Func<RetryDelayGeneratorArguments<object>, ValueTask<TimeSpan?>>? _delayGenerator;
    private readonly Func<OnRetryArguments<object>, ValueTask>? _onRetry;

    /// <summary>Reads the options once: later changes to them have no effect.</summary>
    public RetryReplay(RetryStrategyOptions<object> options)
    {
        MaxRetryAttempts = options.MaxRetryAttempts;
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

    public int MaxRetryAttempts { get; }

    /// <summary>
    /// Replays the job's attempts and returns whether Polly retries before <paramref name="nextAttempt"/>, and after
    /// which delay. Only a replay that decides a real retry (<paramref name="notify"/>) calls the options' OnRetry.
    /// </summary>
    public async ValueTask<(bool Retries, TimeSpan Delay)> RunAsync(int nextAttempt, Exception? reason, bool notify, CancellationToken cancellationToken)
    {
        using var state = new ReplayState(nextAttempt - 2, notify, cancellationToken);
        ResilienceContext context = ResilienceContextPool.Shared.Get(state.Token);
        try
        {
            context.Properties.Set(StateKey, state);
            Exception outcome = reason ?? new InvalidOperationException("The handler asked for a retry without giving a reason.");
            await _pipeline.ExecuteOutcomeAsync(
                static (_, failure) => new ValueTask<Outcome<object>>(Outcome.FromException<object>(failure)), context, outcome).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return (state.Captured, state.Delay);
    }

    private ValueTask<TimeSpan?> GenerateDelayAsync(RetryDelayGeneratorArguments<object> args)
    {
        // Earlier attempts are only replayed to advance Polly's jitter state: they wait for nothing.
        if (args.AttemptNumber < args.Context.Properties.GetValue(StateKey, null!).Target)
        {
            return new ValueTask<TimeSpan?>(TimeSpan.Zero);
        }

        return _delayGenerator?.Invoke(args) ?? new ValueTask<TimeSpan?>((TimeSpan?)null);
    }

    private ValueTask CaptureAsync(OnRetryArguments<object> args)
    {
        ReplayState state = args.Context.Properties.GetValue(StateKey, null!);
        if (args.AttemptNumber < state.Target)
        {
            return default;
        }

        // Cancelling ends the replay before Polly waits: the batcher, not Polly, waits out the delay.
        state.Capture(args.RetryDelay);
        return state.Notify ? _onRetry?.Invoke(args) ?? default : default;
    }

    /// <summary>The state of one replay: which retry is asked about, and the delay Polly gave it.</summary>
    private sealed class ReplayState(int target, bool notify, CancellationToken cancellationToken) : IDisposable
    {
        private readonly CancellationTokenSource _done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

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
