using System.Threading.Channels;
using Tinybatch.Benchmarks.Implementations;

namespace Tinybatch.Benchmarks.Micro;

/// <summary>
/// The baseline of the microbenchmarks: an unbounded channel whose single consumer hands whatever is there (up to
/// the batch size) to the handler at once, with no delay and no timer. The least a batcher can cost.
/// </summary>
internal sealed class RawChannelBatcher<T>
{
    private readonly Channel<T> _channel = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SpanHandler<T> _handler;
    private readonly int _maxBatchSize;
    private Task _consumer = Task.CompletedTask;

    public RawChannelBatcher(int maxBatchSize, SpanHandler<T> handler)
    {
        _maxBatchSize = maxBatchSize;
        _handler = handler;
    }

    public void Start() => _consumer = Task.Run(ConsumeAsync);

    public bool TryWrite(T item) => _channel.Writer.TryWrite(item);

    public Task CompleteAsync()
    {
        _channel.Writer.TryComplete();
        return _consumer;
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

            _handler(buffer.AsSpan(0, count));
            Array.Clear(buffer, 0, count);
        }
    }
}
