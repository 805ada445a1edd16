namespace Tinybatch.Benchmarks.Implementations;

/// <summary>The hand-rolled System.Threading.Channels anchor: one consumer, a batch lingers at most MaxBatchDelay.</summary>
internal sealed class ChannelImplementation : IBatchingImplementation
{
    private readonly ChannelPipeline<long>? _items;
    private readonly ChannelPipeline<Request>? _requests;

    public ChannelImplementation(BatchSink sink, BatchSettings settings)
    {
        if (settings.Requests)
        {
            _requests = new ChannelPipeline<Request>(settings, AnchorHandlers.Requests(sink));
        }
        else
        {
            _items = new ChannelPipeline<long>(settings, AnchorHandlers.FireAndForget(sink));
        }
    }

    public string Name => "Channel+delay";

    public long FullWaits => 0;

    public ValueTask AddAsync(long id)
    {
        _items!.Post(id);
        return default;
    }

    public ValueTask<long> AddAndWaitAsync(long id)
    {
        TaskCompletionSource<long> promise = AnchorHandlers.NewPromise();
        _requests!.Post(new Request(id, promise));
        return new ValueTask<long>(promise.Task);
    }

    public Task CompleteAsync() => _items?.CompleteAsync() ?? _requests!.CompleteAsync();

    public ValueTask DisposeAsync() => default;
}
