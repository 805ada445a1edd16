using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Tinybatch.Internal;

/// <summary>
/// The body of <see cref="AsyncEnumerableBatchExtensions.Batch{T}(IAsyncEnumerable{T}, int, TimeSpan, TimeProvider?)"/>.
/// A batch may go out on time while the source's <c>MoveNextAsync</c> is still pending: the move is kept, watched, and
/// its item starts the next batch. It starts a move only when the item can join the current batch.
/// </summary>
internal static class AsyncEnumerableBatchIterator
{
    public static async IAsyncEnumerable<IReadOnlyList<T>> RunAsync<T>(
        IAsyncEnumerable<T> source,
        BatchTrigger trigger,
        TimeProvider time,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The source gets our own token, so that disposing can stop a pending move even when the consumer's token cannot.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var waker = new StreamWaker(time);
        IAsyncEnumerator<T> enumerator = source.GetAsyncEnumerator(stop.Token);
        ValueTask<bool> move = default;
        bool moving = false;
        int previousCount = 0;
        try
        {
            while (true)
            {
                List<T>? batch = null;
                long start = 0;
                bool ended = false;
                bool canceled = false;
                ExceptionDispatchInfo? failure = null;
                while (true)
                {
                    if (!moving)
                    {
                        if (cancellationToken.IsCancellationRequested)
                        {
                            canceled = true;
                            break;
                        }

                        if (batch is not null && batch.Count >= trigger.MaxSize)
                        {
                            break;
                        }

                        try
                        {
#pragma warning disable CA2012 // Kept across awaits and yields on purpose: watched once (StreamWaker.Watch), its result taken once.
                            move = enumerator.MoveNextAsync();
#pragma warning restore CA2012
                        }
                        catch (Exception ex)
                        {
                            failure = ExceptionDispatchInfo.Capture(ex);
                            break;
                        }

                        moving = true;
                        if (!move.IsCompleted)
                        {
                            waker.Watch(move);
                        }
                    }

                    if (move.IsCompleted)
                    {
                        moving = false;
                        try
                        {
                            if (!move.GetAwaiter().GetResult())
                            {
                                ended = true;
                                break;
                            }
                        }
                        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                        {
                            canceled = true;
                            break;
                        }
                        catch (Exception ex)
                        {
                            failure = ExceptionDispatchInfo.Capture(ex);
                            break;
                        }

                        if (batch is null)
                        {
                            batch = new List<T>(StreamBatching.InitialCapacity(trigger.MaxSize, previousCount));
                            start = trigger.NeedsFirstItemTime ? time.GetTimestamp() : 0;
                        }

                        batch.Add(enumerator.Current);
                        continue;
                    }

                    // The move is pending. After a cancellation, wait for it (the source was asked to stop through the
                    // linked token): whatever it still delivers joins the last batch instead of being lost.
                    if (batch is not null && !cancellationToken.IsCancellationRequested)
                    {
                        TimeSpan waited = trigger.NeedsFirstItemTime ? time.GetElapsedTime(start) : TimeSpan.Zero;
                        if (trigger.IsDue(batch.Count, 0, waited, forced: false))
                        {
                            break;
                        }

                        if (trigger.Lingers)
                        {
                            waker.ArmFor(start, trigger.Remaining(waited));
                        }
                    }

                    await waker.WaitAsync().ConfigureAwait(false);
                }

                // What was read goes out first; a failure, the end or a cancellation shows on the next MoveNextAsync.
                if (batch is not null)
                {
                    previousCount = batch.Count;
                    yield return batch;
                }

                if (canceled)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                failure?.Throw();
                if (ended)
                {
                    yield break;
                }
            }
        }
        finally
        {
            await FinishAsync(enumerator, move, moving, waker, stop).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stops the source and disposes it. A move still pending (the enumerator was disposed after a batch went out on time)
    /// is cancelled through the source's token and awaited: an enumerator cannot be disposed under a pending move. If it
    /// still delivers an item, that item is handed back in an <see cref="ItemNotYieldedException"/>, never dropped.
    /// </summary>
    private static async ValueTask FinishAsync<T>(
        IAsyncEnumerator<T> enumerator,
        ValueTask<bool> move,
        bool moving,
        StreamWaker waker,
        CancellationTokenSource stop)
    {
        List<Exception>? errors = null;
        bool leftover = false;
        T? item = default;
        if (moving)
        {
            try
            {
                await stop.CancelAsync().ConfigureAwait(false);
                while (true)
                {
                    if (move.IsCompleted)
                    {
                        if (move.GetAwaiter().GetResult())
                        {
                            leftover = true;
                            item = enumerator.Current;
                        }

                        break;
                    }

                    await waker.WaitAsync().ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                // The source honoured the token: nothing was read.
            }
            catch (Exception ex)
            {
                (errors ??= []).Add(ex);
            }
        }

        try
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (leftover || errors is not null)
        {
            (errors ??= []).Add(ex);
        }

        Exception? error = errors switch
        {
            null => null,
            [Exception single] => single,
            _ => new AggregateException(errors),
        };
        if (leftover)
        {
            throw new ItemNotYieldedException(
                "The source delivered an item after the batch enumerator was disposed and had cancelled the source; the item was not yielded and is in Item.",
                error)
            {
                Item = item,
            };
        }

        if (error is not null)
        {
            ExceptionDispatchInfo.Throw(error);
        }
    }
}
