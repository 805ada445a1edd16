using Polly.CircuitBreaker;

namespace Tinybatch.Polly;

/// <summary>Configures a batcher to pause dispatch during an outage, as a Polly circuit breaker decides.</summary>
public static class PollyOutageBackoffExtensions
{
    /// <summary>
    /// Sets <see cref="BatcherOptions.OutageBackoff"/> to a <see cref="PollyOutageBackoff"/> built from
    /// <paramref name="circuitBreaker"/>, on the options' <see cref="BatcherOptions.TimeProvider"/> (set it first).
    /// </summary>
    /// <param name="options">The batcher options to change.</param>
    /// <param name="circuitBreaker">The Polly circuit breaker options.</param>
    /// <returns>The backoff, whose <see cref="PollyOutageBackoff.State"/> tells whether dispatch is paused.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> or <paramref name="circuitBreaker"/> is null.</exception>
    public static PollyOutageBackoff UsePollyOutageBackoff(this BatcherOptions options, CircuitBreakerStrategyOptions circuitBreaker)
    {
        ArgumentNullException.ThrowIfNull(options);
        var backoff = new PollyOutageBackoff(circuitBreaker, options.TimeProvider);
        options.OutageBackoff = backoff;
        return backoff;
    }
}
