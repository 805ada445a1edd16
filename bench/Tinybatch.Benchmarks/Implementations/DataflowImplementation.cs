namespace Tinybatch.Benchmarks.Implementations;

/// <summary>The TPL Dataflow anchor: BatchBlock + ActionBlock + a timer calling TriggerBatch every MaxBatchDelay.</summary>
internal sealed class DataflowImplementation : IBatchingImplementation
{
    private readonly DataflowPipeline<long>? _items;
    private readonly DataflowPipeline<Request>? _requests;

    public DataflowImplementation(BatchSink sink, BatchSettings settings)
    {
        if (settings.Requests)
        {
            _requests = new DataflowPipeline<Request>(settings, AnchorHandlers.Requests(sink));
        }
        else
        {
            _items = new DataflowPipeline<long>(settings, AnchorHandlers.FireAndForget(sink));
        }
    }

    public string Name => "Dataflow BatchBlock+timer";

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
