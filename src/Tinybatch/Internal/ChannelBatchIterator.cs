using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace Tinybatch.Internal;

/// <summary>
/// The body of <see cref="ChannelReaderBatchExtensions.Batch{T}(ChannelReader{T}, int, TimeSpan, TimeProvider?)"/>.
/// It takes an item from the channel only when the item can join the current batch, and waits with
/// <c>WaitToReadAsync</c>, which takes nothing: whatever it has taken is in a batch that will be yielded.
/// </summary>
internal static class ChannelBatchIterator
{
    public static async IAsyncEnumerable<IReadOnlyList<T>> RunAsync<T>(
        ChannelReader<T> reader,
        BatchTrigger trigger,
        TimeProvider time,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Our own token for the pending wait, so that disposing can cancel it even when the consumer's token cannot.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var waker = new StreamWaker(time);
        ValueTask<bool> wait = default;
        bool waiting = false;
        int previousCount = 0;
        try
        {
            while (true)
            {
                List<T>? batch = null;
                long start = 0;
                bool completed = false;
                bool canceled = false;
                ExceptionDispatchInfo? failure = null;
                while (true)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        canceled = true;
                        break;
                    }

                    int count = batch?.Count ?? 0;
                    while (count < trigger.MaxSize && reader.TryRead(out T? item))
                    {
                        if (batch is null)
                        {
                            batch = new List<T>(StreamBatching.InitialCapacity(trigger.MaxSize, previousCount));
                            start = trigger.NeedsFirstItemTime ? time.GetTimestamp() : 0;
                        }

                        batch.Add(item);
                        count++;
                    }

                    TimeSpan waited = count > 0 && trigger.NeedsFirstItemTime ? time.GetElapsedTime(start) : TimeSpan.Zero;
                    if (trigger.IsDue(count, 0, waited, forced: false))
                    {
                        break;
                    }

                    if (!waiting)
                    {
                        try
                        {
#pragma warning disable CA2012 // Kept across awaits and yields on purpose: watched once (StreamWaker.Watch), its result taken once.
                            wait = reader.WaitToReadAsync(stop.Token);
#pragma warning restore CA2012
                        }
                        catch (Exception ex)
                        {
                            failure = ExceptionDispatchInfo.Capture(ex);
                            break;
                        }

                        waiting = true;
                        if (!wait.IsCompleted)
                        {
                            waker.Watch(wait);
                        }
                    }

                    if (wait.IsCompleted)
                    {
                        waiting = false;
                        try
                        {
                            if (!wait.GetAwaiter().GetResult())
                            {
                                completed = true;
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

                        continue;
                    }

                    if (count > 0 && trigger.Lingers)
                    {
                        waker.ArmFor(start, trigger.Remaining(waited));
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
                if (completed)
                {
                    yield break;
                }
            }
        }
        finally
        {
            if (waiting)
            {
                // A wait takes nothing from the channel: cancel it, let it settle, and let its outcome go.
                await stop.CancelAsync().ConfigureAwait(false);
                while (true)
                {
                    if (wait.IsCompleted)
                    {
                        try
                        {
                            _ = wait.GetAwaiter().GetResult();
                        }
                        catch (Exception)
                        {
                            // Cancelled, or the channel's completion error, which the channel's Completion still holds.
                        }

                        break;
                    }

                    await waker.WaitAsync().ConfigureAwait(false);
                }
            }
        }
    }
}
