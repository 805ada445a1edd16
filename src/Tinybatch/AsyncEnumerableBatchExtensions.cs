using Tinybatch.Internal;

namespace Tinybatch;

/// <summary>Batches an <see cref="IAsyncEnumerable{T}"/> by size or time, with no batcher object.</summary>
public static class AsyncEnumerableBatchExtensions
{
    /// <summary>
    /// Groups the items of <paramref name="source"/> into batches of at most <paramref name="maxSize"/> items. A batch is
    /// yielded when it is full, or when its first item has waited <paramref name="maxDelay"/>, on every batch: the
    /// same rule as <see cref="BatcherOptions.MaxBatchSize"/> and <see cref="BatcherOptions.MaxBatchDelay"/>.
    /// An empty batch is never yielded.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Time counts from the moment the batch's first item is read from the source, on <paramref name="timeProvider"/>.
    /// The clock is read whenever the source has no item ready at once; while it keeps completing
    /// <c>MoveNextAsync</c> synchronously, batches fill by size. A due time beyond the system timer's limit (about 49.7
    /// days), <see cref="TimeSpan.MaxValue"/> included, works.
    /// </para>
    /// <para>
    /// <b>Nothing read is lost.</b> A batch may go out on time while the source's <c>MoveNextAsync</c> is still pending;
    /// that move is kept, and its item starts the next batch. The operator starts a move only when the item can join the
    /// current batch.
    /// </para>
    /// <list type="bullet">
    /// <item><description>
    /// A source that throws: the items read before the failure are yielded first, and the exception is thrown by the
    /// next <c>MoveNextAsync</c>.
    /// </description></item>
    /// <item><description>
    /// Cancellation (the token given to <c>WithCancellation</c> or <c>GetAsyncEnumerator</c>; the source is enumerated
    /// with a token linked to it): nothing more is asked of the source. A pending move is awaited, so an item the source
    /// still delivers joins the batch; the items read so far are yielded as a last batch, and the next
    /// <c>MoveNextAsync</c> throws <see cref="OperationCanceledException"/>. With nothing read, it throws at once.
    /// </description></item>
    /// <item><description>
    /// <c>DisposeAsync</c> (for example, <c>break</c> out of <c>await foreach</c>): a pending move is cancelled through
    /// the source's token and awaited, then the source's enumerator is disposed; nothing keeps running. If that move
    /// still delivers an item, <c>DisposeAsync</c> throws <see cref="ItemNotYieldedException"/> with the item in
    /// <see cref="ItemNotYieldedException.Item"/>, rather than drop it. A source that ignores its token holds
    /// <c>DisposeAsync</c> until it delivers its next item or ends.
    /// </description></item>
    /// </list>
    /// <para>
    /// Each batch is a new list the consumer owns. Nothing is allocated up front in proportion to
    /// <paramref name="maxSize"/>: a batch list starts at the previous batch's size and grows as items come.
    /// </para>
    /// </remarks>
    /// <typeparam name="T">The type of the items.</typeparam>
    /// <param name="source">The stream to batch.</param>
    /// <param name="maxSize">The most items in a batch: at least 1.</param>
    /// <param name="maxDelay">
    /// How long a batch's first item may wait before the batch goes out, even if not full. <see cref="TimeSpan.Zero"/>:
    /// no waiting; a batch holds the items available at once. <see cref="Timeout.InfiniteTimeSpan"/>: by size only (and
    /// a last partial batch when the source ends).
    /// </param>
    /// <param name="timeProvider">The clock and timers; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <returns>The batches, in the source's order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="maxSize"/> is less than 1, or <paramref name="maxDelay"/> is negative and not
    /// <see cref="Timeout.InfiniteTimeSpan"/>. Thrown by this call, not at the first <c>MoveNextAsync</c>.
    /// </exception>
    public static IAsyncEnumerable<IReadOnlyList<T>> Batch<T>(
        this IAsyncEnumerable<T> source,
        int maxSize,
        TimeSpan maxDelay,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        BatchTrigger trigger = StreamBatching.CreateTrigger(maxSize, maxDelay);
        return AsyncEnumerableBatchIterator.RunAsync(source, trigger, timeProvider ?? TimeProvider.System, default);
    }
}
