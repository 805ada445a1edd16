using System.Diagnostics;
using System.Threading.Channels;

namespace Tinybatch.Benchmarks.Implementations;

/// <summary>
/// A hand-rolled batcher on System.Threading.Channels: one consumer reads up to MaxBatchSize items, and once it holds
/// the first item of a batch it waits for more at most MaxBatchDelay (a reusable CancellationTokenSource with CancelAfter).
/// </summary>
internal sealed class ChannelPipeline<T> : IAnchorPipeline<T>
{
    private readonly Channel<T> _channel = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SpanHandler<T> _handler;
    private readonly int _maxBatchSize;
    private readonly long _delayTicks;
    private readonly Task _consumer;

    public ChannelPipeline(BatchSettings settings, SpanHandler<T> handler)
    {
        _handler = handler;
        _maxBatchSize = settings.MaxBatchSize;
        _delayTicks = (long)(settings.MaxBatchDelay.TotalSeconds * Stopwatch.Frequency);
        _consumer = Task.Run(ConsumeAsync);
    }

    public void Post(T item)
    {
        if (!_channel.Writer.TryWrite(item))
        {
            throw new InvalidOperationException("The channel declined an item.");
        }
    }

    public Task CompleteAsync()
    {
        _channel.Writer.TryComplete();
        return _consumer;
    }

    /// <summary>Nothing to release: the consumer ends when the channel completes.</summary>
    public void Dispose()
    {
    }

    private async Task ConsumeAsync()
    {
        var buffer = new T[_maxBatchSize];
        ChannelReader<T> reader = _channel.Reader;
        var linger = new CancellationTokenSource();
        while (await reader.WaitToReadAsync())
        {
            int count = 0;
            long deadline = 0;
            while (count < _maxBatchSize)
            {
                if (reader.TryRead(out T? item))
                {
                    if (count == 0)
                    {
                        deadline = Stopwatch.GetTimestamp() + _delayTicks;
                    }

                    buffer[count++] = item;
                    continue;
                }

                long remaining = deadline - Stopwatch.GetTimestamp();
                if (count == 0 || remaining <= 0)
                {
                    break;
                }

                if (!linger.TryReset())
                {
                    linger.Dispose();
                    linger = new CancellationTokenSource();
                }

                linger.CancelAfter(Stopwatch.GetElapsedTime(0, remaining));
                try
                {
                    if (!await reader.WaitToReadAsync(linger.Token))
                    {
                        break;
                    }
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            if (count > 0)
            {
                _handler(buffer.AsSpan(0, count));
                Array.Clear(buffer, 0, count);
            }
        }

        linger.Dispose();
    }
}
