namespace Tinybatch.Benchmarks.Implementations;

/// <summary>The Rx anchor: Subject + Buffer(TimeSpan, int), synchronized when producers are concurrent.</summary>
internal sealed class RxImplementation : IBatchingImplementation
{
    private readonly RxPipeline<long>? _items;
    private readonly RxPipeline<Request>? _requests;

    public RxImplementation(BatchSink sink, BatchSettings settings)
    {
        if (settings.Requests)
        {
            _requests = new RxPipeline<Request>(settings, AnchorHandlers.Requests(sink));
        }
        else
        {
            _items = new RxPipeline<long>(settings, AnchorHandlers.FireAndForget(sink));
        }
    }

    public string Name => "Rx Buffer";

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

    public ValueTask DisposeAsync()
    {
        _items?.Dispose();
        _requests?.Dispose();
        return default;
    }
}
