using Polly;
using Polly.CircuitBreaker;

namespace Tinybatch.Polly;

/// <summary>
/// A stream-wide backoff driven by a Polly circuit breaker: each handler call's outcome is fed to the breaker, and
/// while the circuit is open, dispatch pauses for what is left of the break. Jobs stay queued (and keep their place
/// in the buffer) during the pause; the batcher waits it out on its own clock, so a stop deadline cuts it short.
/// </summary>
/// <remarks>
/// <para>
/// The breaker decides as Polly's does: <see cref="CircuitBreakerStrategyOptions{TResult}.ShouldHandle"/> picks the
/// failures that count (by default every exception but <see cref="OperationCanceledException"/>);
/// <see cref="CircuitBreakerStrategyOptions{TResult}.FailureRatio"/>, <see cref="CircuitBreakerStrategyOptions{TResult}.MinimumThroughput"/>
/// and <see cref="CircuitBreakerStrategyOptions{TResult}.SamplingDuration"/> decide when it opens. The pause is the
/// break: <see cref="CircuitBreakerStrategyOptions{TResult}.BreakDuration"/>, or what
/// <see cref="CircuitBreakerStrategyOptions{TResult}.BreakDurationGenerator"/> returns (it receives the half-open
/// attempts so far, so breaks can grow during a long outage).
/// </para>
/// <para>
/// When the break is over, the next handler call is the breaker's half-open trial: its success closes the circuit
/// (no more pauses), its failure opens it again. A handler call that ends while the circuit is open (one that was
/// running when the circuit opened) is not counted; it gets the rest of the break. A manually isolated circuit
/// (<see cref="CircuitBreakerStrategyOptions{TResult}.ManualControl"/>) pauses for one <see cref="CircuitBreakerStrategyOptions{TResult}.BreakDuration"/>
/// at a time until it is closed.
/// </para>
/// <para>The breaker measures time on the <see cref="TimeProvider"/> given here: give it the batcher's.</para>
/// </remarks>
public sealed class PollyOutageBackoff : OutageBackoff
{
    private static readonly ResiliencePropertyKey<TimeSpan> OpenedKey = new("Tinybatch.Polly.Opened");

    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _state = new();
    private readonly TimeSpan _breakDuration;

    /// <summary>Creates a backoff from a Polly circuit breaker's options. The options are read once, here.</summary>
    /// <param name="options">The circuit breaker options.</param>
    /// <param name="timeProvider">The batcher's clock (<see cref="BatcherOptions.TimeProvider"/>); <see langword="null"/> for the system clock.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> already has a <c>StateProvider</c>: the backoff needs its own.</exception>
    /// <exception cref="System.ComponentModel.DataAnnotations.ValidationException">Polly rejects the options.</exception>
    public PollyOutageBackoff(CircuitBreakerStrategyOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.StateProvider is not null)
        {
            throw new ArgumentException("The circuit breaker options already have a StateProvider; leave it unset, PollyOutageBackoff.State tells the state.", nameof(options));
        }

        _breakDuration = options.BreakDuration;
        Func<OnCircuitOpenedArguments<object>, ValueTask>? onOpened = options.OnOpened;
        var breaker = new CircuitBreakerStrategyOptions
        {
            Name = options.Name,
            FailureRatio = options.FailureRatio,
            MinimumThroughput = options.MinimumThroughput,
            SamplingDuration = options.SamplingDuration,
            BreakDuration = options.BreakDuration,
            BreakDurationGenerator = options.BreakDurationGenerator,
            ShouldHandle = options.ShouldHandle,
            ManualControl = options.ManualControl,
            OnClosed = options.OnClosed,
            OnHalfOpened = options.OnHalfOpened,
            StateProvider = _state,
            OnOpened = args =>
            {
                // The execution that opened the circuit learns its break through its own context.
                args.Context.Properties.Set(OpenedKey, args.BreakDuration);
                return onOpened?.Invoke(args) ?? default;
            },
        };
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = timeProvider ?? TimeProvider.System }.AddCircuitBreaker(breaker).Build();
    }

    /// <summary>Gets the circuit's state: <see cref="CircuitState.Open"/> while dispatch is paused.</summary>
    public CircuitState State => _state.CircuitState;

    /// <summary>Feeds one handler call's outcome to the circuit breaker and returns how long dispatch pauses.</summary>
    /// <param name="failure">The exception the handler threw, or <see langword="null"/> if it returned.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The rest of the break while the circuit is open; <see cref="TimeSpan.Zero"/> otherwise.</returns>
    public override async ValueTask<TimeSpan> OnHandlerCompletedAsync(Exception? failure, CancellationToken cancellationToken)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            Outcome<object> outcome = await _pipeline.ExecuteOutcomeAsync(
                static (_, failure) => new ValueTask<Outcome<object>>(failure is null ? Outcome.FromResult<object>(null) : Outcome.FromException<object>(failure)),
                context,
                failure).ConfigureAwait(false);
            if (context.Properties.TryGetValue(OpenedKey, out TimeSpan opened))
            {
                return Positive(opened);
            }

            return outcome.Exception switch
            {
                IsolatedCircuitException => _breakDuration,
                BrokenCircuitException broken => Positive(broken.RetryAfter ?? _breakDuration),
                _ => TimeSpan.Zero,
            };
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static TimeSpan Positive(TimeSpan pause) => pause > TimeSpan.Zero ? pause : TimeSpan.Zero;
}
