namespace Tinybatch;

/// <summary>
/// Decides when the sink itself is down, and for how long dispatch pauses: one backoff for the whole stream instead of
/// one per job. While dispatch pauses, jobs stay queued and keep their place in the buffer, so producers feel
/// backpressure; the pause runs on the batcher's <see cref="TimeProvider"/>, and a stop deadline cuts it short.
/// </summary>
/// <remarks>The Polly adapter (<c>Tinybatch.Polly</c>) provides one driven by a Polly circuit breaker.</remarks>
public abstract class OutageBackoff
{
    /// <summary>
    /// Called after every handler call that ran to its end (not after one abandoned by a stop deadline or a handler
    /// timeout), on the thread that finished it, one call at a time per batcher.
    /// </summary>
    /// <param name="failure">The exception the handler threw, or <see langword="null"/> if it returned.</param>
    /// <param name="cancellationToken">Cancelled when the batcher's stop deadline expires.</param>
    /// <returns>How long dispatch pauses before the next handler call; <see cref="TimeSpan.Zero"/> for no pause.</returns>
    public abstract ValueTask<TimeSpan> OnHandlerCompletedAsync(Exception? failure, CancellationToken cancellationToken);
}
