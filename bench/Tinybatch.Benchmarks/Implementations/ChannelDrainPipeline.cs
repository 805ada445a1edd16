using System.Threading.Channels;

namespace Tinybatch.Benchmarks.Implementations;

/// <summary>
/// The simplest batcher on System.Threading.Channels: one consumer waits for the first item, then hands over whatever
/// is queued, up to MaxBatchSize, with no timer. It never waits for a batch to fill, so under low load each item goes
/// out alone, at once.
/// </summary>
internal sealed class ChannelDrainPipeline<T> : IAnchorPipeline<T>
{
    private readonly Channel<T> _channel = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SpanHandler<T> _handler;
    private readonly int _maxBatchSize;
    private readonly Task _consumer;

    public ChannelDrainPipeline(BatchSettings settings, SpanHandler<T> handler)
    {
        _handler = handler;
        _maxBatchSize = settings.MaxBatchSize;
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
        while (await reader.WaitToReadAsync())
        {
            int count = 0;
            while (count < _maxBatchSize && reader.TryRead(out T? item))
            {
                buffer[count++] = item;
            }

            if (count > 0)
            {
                _handler(buffer.AsSpan(0, count));
                Array.Clear(buffer, 0, count);
            }
        }
    }
}
