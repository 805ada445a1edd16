using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.CircuitBreaker;
using Tinybatch.Polly;

namespace Tinybatch.Sink.Tests;

/// <summary>The Polly side of the stream-wide backoff, alone, on a fake clock: how long dispatch pauses after each handler call.</summary>
public sealed class PollyOutageBackoffTests
{
    private static readonly TimeSpan Break = TimeSpan.FromSeconds(5);

    private static CircuitBreakerStrategyOptions Breaker(Func<BreakDurationGeneratorArguments, ValueTask<TimeSpan>>? generator = null) => new()
    {
        FailureRatio = 0.5,
        MinimumThroughput = 4,
        SamplingDuration = TimeSpan.FromSeconds(30),
        BreakDuration = Break,
        BreakDurationGenerator = generator,
        ShouldHandle = new PredicateBuilder().Handle<TimeoutException>(),
    };

    [Fact]
    public async Task OnHandlerCompletedAsync_FailuresBelowTheRatioOrThroughput_NoPause()
    {
        var backoff = new PollyOutageBackoff(Breaker(), new FakeTimeProvider());

        Assert.Equal(TimeSpan.Zero, await backoff.OnHandlerCompletedAsync(new TimeoutException(), default)); // 1 call: below the throughput
        Assert.Equal(TimeSpan.Zero, await backoff.OnHandlerCompletedAsync(null, default));
        Assert.Equal(TimeSpan.Zero, await backoff.OnHandlerCompletedAsync(null, default));
        Assert.Equal(TimeSpan.Zero, await backoff.OnHandlerCompletedAsync(null, default));
        Assert.Equal(TimeSpan.Zero, await backoff.OnHandlerCompletedAsync(null, default));
        Assert.Equal(TimeSpan.Zero, await backoff.OnHandlerCompletedAsync(new TimeoutException(), default)); // 2 of 6: below the ratio
        Assert.Equal(CircuitState.Closed, backoff.State);
    }

    [Fact]
    public async Task OnHandlerCompletedAsync_FailureThatOpensTheCircuit_PausesForTheBreak()
    {
        var backoff = new PollyOutageBackoff(Breaker(), new FakeTimeProvider());

        TimeSpan[] pauses = [.. await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => backoff.OnHandlerCompletedAsync(new TimeoutException(), default).AsTask()))];

        Assert.Equal([TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, Break], pauses.Order());
        Assert.Equal(CircuitState.Open, backoff.State);
    }

    [Fact]
    public async Task OnHandlerCompletedAsync_CallEndingWhileOpen_PausesForTheRestOfTheBreakOnTheGivenClock()
    {
        var time = new FakeTimeProvider();
        var backoff = new PollyOutageBackoff(Breaker(), time);
        await OpenAsync(backoff);

        time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(TimeSpan.FromSeconds(3), await backoff.OnHandlerCompletedAsync(null, default));
        Assert.Equal(CircuitState.Open, backoff.State);
    }

    [Fact]
    public async Task OnHandlerCompletedAsync_HalfOpenTrialsFail_BreaksGrowWithTheGeneratorAndASuccessCloses()
    {
        var time = new FakeTimeProvider();
        var attempts = new List<int>();
        var backoff = new PollyOutageBackoff(
            Breaker(args =>
            {
                attempts.Add(args.HalfOpenAttempts);
                return new ValueTask<TimeSpan>(Break * (1 << args.HalfOpenAttempts));
            }),
            time);
        TimeSpan pause = await OpenAsync(backoff);
        Assert.Equal(Break, pause);

        var pauses = new List<TimeSpan>();
        for (int trial = 0; trial < 3; trial++)
        {
            time.Advance(pause);
            pause = await backoff.OnHandlerCompletedAsync(new TimeoutException("still down"), default);
            pauses.Add(pause);
        }

        Assert.Equal([Break * 2, Break * 4, Break * 8], pauses);
        Assert.Equal([0, 1, 2, 3], attempts);

        time.Advance(pause);
        Assert.Equal(TimeSpan.Zero, await backoff.OnHandlerCompletedAsync(null, default));
        Assert.Equal(CircuitState.Closed, backoff.State);
        Assert.Equal(TimeSpan.Zero, await backoff.OnHandlerCompletedAsync(new TimeoutException(), default));
    }

    [Fact]
    public async Task OnHandlerCompletedAsync_UnhandledException_DoesNotCountTowardsTheBreak()
    {
        var backoff = new PollyOutageBackoff(Breaker(), new FakeTimeProvider());

        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(TimeSpan.Zero, await backoff.OnHandlerCompletedAsync(new ArgumentException("bad record"), default));
        }

        Assert.Equal(CircuitState.Closed, backoff.State);
    }

    [Fact]
    public async Task OnHandlerCompletedAsync_UserCallbacks_StillCalled()
    {
        int opened = 0;
        int closed = 0;
        CircuitBreakerStrategyOptions options = Breaker();
        options.OnOpened = _ =>
        {
            opened++;
            return default;
        };
        options.OnClosed = _ =>
        {
            closed++;
            return default;
        };
        var time = new FakeTimeProvider();
        var backoff = new PollyOutageBackoff(options, time);

        time.Advance(await OpenAsync(backoff));
        await backoff.OnHandlerCompletedAsync(null, default);

        Assert.Equal((1, 1), (opened, closed));
    }

    [Fact]
    public void Ctor_OptionsWithAStateProvider_ThrowsArgumentException()
    {
        CircuitBreakerStrategyOptions options = Breaker();
        options.StateProvider = new CircuitBreakerStateProvider();

        Assert.Throws<ArgumentException>(() => new PollyOutageBackoff(options));
    }

    [Fact]
    public async Task UsePollyOutageBackoff_SetsTheOptionsBackoffOnTheOptionsClock()
    {
        var time = new FakeTimeProvider();
        var options = new BatcherOptions<int, int> { TimeProvider = time };

        PollyOutageBackoff backoff = options.UsePollyOutageBackoff(Breaker());
        await OpenAsync(backoff);
        time.Advance(TimeSpan.FromSeconds(4));

        Assert.Same(backoff, options.OutageBackoff);
        Assert.Equal(TimeSpan.FromSeconds(1), await backoff.OnHandlerCompletedAsync(null, default));
    }

    /// <summary>Four failures in a row open the circuit; returns the pause the opening call got.</summary>
    private static async Task<TimeSpan> OpenAsync(PollyOutageBackoff backoff)
    {
        TimeSpan pause = TimeSpan.Zero;
        for (int i = 0; i < 4; i++)
        {
            pause = await backoff.OnHandlerCompletedAsync(new TimeoutException("down"), default);
        }

        Assert.Equal(CircuitState.Open, backoff.State);
        return pause;
    }
}
