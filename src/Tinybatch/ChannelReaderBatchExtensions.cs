using System.Threading.Channels;
using Tinybatch.Internal;

namespace Tinybatch;

/// <summary>Batches what a <see cref="ChannelReader{T}"/> delivers by size or time, with no batcher object.</summary>
public static class ChannelReaderBatchExtensions
{
    /// <summary>
    /// Reads <paramref name="source"/> until it completes, in batches of at most <paramref name="maxSize"/> items. A
    /// batch is yielded when it is full, or when its first item has waited <paramref name="maxDelay"/>, on every batch:
    /// the same rule as <see cref="BatcherOptions.MaxBatchSize"/> and <see cref="BatcherOptions.MaxBatchDelay"/>.
    /// An empty batch is never yielded.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Time counts from the moment the batch's first item is taken from the channel, on <paramref name="timeProvider"/>.
    /// The clock is read whenever the channel is empty; while items are waiting in it, batches fill by size. A due time
    /// beyond the system timer's limit (about 49.7 days), <see cref="TimeSpan.MaxValue"/> included, works.
    /// </para>
    /// <para>
    /// <b>Nothing is taken that is not yielded.</b> The operator waits with <see cref="ChannelReader{T}.WaitToReadAsync"/>
    /// and takes an item with <see cref="ChannelReader{T}.TryRead"/> only when it can join the current batch; whatever it
    /// has taken is in a batch that will be yielded. Disposing the enumerator cancels its pending wait (which takes
    /// nothing) and leaves every other item in the channel, for another reader or a later enumeration.
    /// </para>
    /// <list type="bullet">
    /// <item><description>
    /// A channel completed with an error: the items taken before are yielded first, and the error is thrown by the
    /// next <c>MoveNextAsync</c>, as <see cref="ChannelReader{T}.WaitToReadAsync"/> throws it.
    /// </description></item>
    /// <item><description>
    /// Cancellation (the token given to <c>WithCancellation</c> or <c>GetAsyncEnumerator</c>): nothing more is taken;
    /// the items taken so far are yielded as a last batch, and the next <c>MoveNextAsync</c> throws
    /// <see cref="OperationCanceledException"/>. With nothing taken, it throws at once.
    /// </description></item>
    /// </list>
    /// <para>
    /// Each batch is a new list the consumer owns. Nothing is allocated up front in proportion to
    /// <paramref name="maxSize"/>: a batch list starts at the previous batch's size and grows as items come.
    /// </para>
    /// </remarks>
    /// <typeparam name="T">The type of the items.</typeparam>
    /// <param name="source">The channel to read.</param>
    /// <param name="maxSize">The most items in a batch: at least 1.</param>
    /// <param name="maxDelay">
    /// How long a batch's first item may wait before the batch goes out, even if not full. <see cref="TimeSpan.Zero"/>:
    /// no waiting; a batch holds what is in the channel at once. <see cref="Timeout.InfiniteTimeSpan"/>: by size only
    /// (and a last partial batch when the channel completes).
    /// </param>
    /// <param name="timeProvider">The clock and timers; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <returns>The batches, in the order the channel delivers the items.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="maxSize"/> is less than 1, or <paramref name="maxDelay"/> is negative and not
    /// <see cref="Timeout.InfiniteTimeSpan"/>. Thrown by this call, not at the first <c>MoveNextAsync</c>.
    /// </exception>
    public static IAsyncEnumerable<IReadOnlyList<T>> Batch<T>(
        this ChannelReader<T> source,
        int maxSize,
        TimeSpan maxDelay,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        BatchTrigger trigger = StreamBatching.CreateTrigger(maxSize, maxDelay);
        return ChannelBatchIterator.RunAsync(source, trigger, timeProvider ?? TimeProvider.System, default);
    }
}
