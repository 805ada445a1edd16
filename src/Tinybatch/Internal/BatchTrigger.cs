namespace Tinybatch.Internal;

/// <summary>
/// The one rule that says when a pending batch is due: it is full (by count or by weight), something forces it out
/// (a flush, a stop, an idle handler in adaptive mode), the delay is zero, or its first item has waited the delay.
/// The batcher's dispatch loop and the stream <c>Batch</c> operators both ask it, so they cannot disagree.
/// </summary>
internal readonly struct BatchTrigger
{
    /// <summary>The longest due time a system timer accepts (<c>uint.MaxValue - 1</c> milliseconds, about 49.7 days).</summary>
    public static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    private readonly int _maxSize;
    private readonly long _maxWeight;
    private readonly TimeSpan _maxDelay;

    public BatchTrigger(int maxSize, long maxWeight, TimeSpan maxDelay)
    {
        _maxSize = maxSize;
        _maxWeight = maxWeight;
        _maxDelay = maxDelay;
    }

    public int MaxSize => _maxSize;

    public long MaxWeight => _maxWeight;

    public TimeSpan MaxDelay => _maxDelay;

    /// <summary>Whether a batch's first item must wait: a positive, finite delay. Zero releases at once; infinite never by time.</summary>
    public bool Lingers => _maxDelay > TimeSpan.Zero && _maxDelay != Timeout.InfiniteTimeSpan;

    /// <summary>Whether time alone can release a batch, so its first item needs a timestamp.</summary>
    public bool NeedsFirstItemTime => Lingers;

    /// <summary>Whether a batch of <paramref name="count"/> items weighing <paramref name="weight"/> cannot take more.</summary>
    public bool IsFull(long count, long weight) => count >= _maxSize || weight >= _maxWeight;

    /// <summary>
    /// Whether a batch of <paramref name="count"/> items (at least one), weighing <paramref name="weight"/>, whose first item
    /// has waited <paramref name="waited"/>, is due; <paramref name="forced"/> when a flush, a stop or the mode asks.
    /// </summary>
    public bool IsDue(long count, long weight, TimeSpan waited, bool forced) =>
        count > 0 && (forced || IsFull(count, weight) || _maxDelay == TimeSpan.Zero || (Lingers && waited >= _maxDelay));

    /// <summary>
    /// How long until a batch whose first item has waited <paramref name="waited"/> is due by time:
    /// <see cref="Timeout.InfiniteTimeSpan"/> when time never releases it, <see cref="TimeSpan.Zero"/> when it is due now.
    /// </summary>
    public TimeSpan Remaining(TimeSpan waited)
    {
        if (_maxDelay == Timeout.InfiniteTimeSpan)
        {
            return Timeout.InfiniteTimeSpan;
        }

        return waited >= _maxDelay ? TimeSpan.Zero : _maxDelay - waited;
    }

    /// <summary>
    /// A due time a timer accepts: at most <see cref="MaxTimerDelay"/>. A timer armed with it may fire before the real
    /// deadline; whoever it wakes asks <see cref="IsDue"/> again and arms it for what is left.
    /// </summary>
    public static TimeSpan ForTimer(TimeSpan dueTime) =>
        dueTime < TimeSpan.Zero ? TimeSpan.Zero : dueTime > MaxTimerDelay ? MaxTimerDelay : dueTime;
}
