namespace Tinybatch.Internal;

/// <summary>What the stream <c>Batch</c> operators share: argument rules (the batcher's) and how a batch list starts.</summary>
internal static class StreamBatching
{
    /// <summary>The first capacity of a batch list when nothing is known yet: small, so a huge size costs nothing up front.</summary>
    private const int MinCapacity = 4;

    /// <summary>
    /// Checks the arguments as <see cref="BatcherOptions"/> checks <c>MaxBatchSize</c> and <c>MaxBatchDelay</c>, and
    /// builds the trigger both operators ask. Called by the public methods, so a bad argument throws at the call.
    /// </summary>
    public static BatchTrigger CreateTrigger(int maxSize, TimeSpan maxDelay)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSize);
        if (maxDelay < TimeSpan.Zero && maxDelay != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxDelay),
                maxDelay,
                "maxDelay must be zero (yield what is available at once), positive, or Timeout.InfiniteTimeSpan (by size only).");
        }

        return new BatchTrigger(maxSize, long.MaxValue, maxDelay);
    }

    /// <summary>
    /// The capacity of a new batch list: the size of the previous batch (a steady stream then allocates each batch once),
    /// never more than <paramref name="maxSize"/>, and never in proportion to it alone.
    /// </summary>
    public static int InitialCapacity(int maxSize, int previousCount) => Math.Min(maxSize, Math.Max(MinCapacity, previousCount));
}
