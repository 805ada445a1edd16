using System.Runtime.CompilerServices;

namespace Tinybatch.Benchmarks.Implementations;

/// <summary>One anchor pipeline (Dataflow, Rx or Channel) fed either bare ids or (id, promise) requests.</summary>
internal interface IAnchorPipeline<T> : IDisposable
{
    void Post(T item);

    Task CompleteAsync();
}

/// <summary>Builds the pipeline of one anchor for either item type.</summary>
internal interface IAnchorPipelineFactory
{
    IAnchorPipeline<T> Create<T>(BatchSettings settings, SpanHandler<T> handler);
}

/// <summary>
/// An anchor measured the way a user would use it: fire-and-forget posts a bare id; a request posts the id with a
/// TaskCompletionSource that the batch handler completes (the anchors have no per-item result of their own).
/// </summary>
internal sealed class AnchorImplementation : IBatchingImplementation
{
    private readonly IAnchorPipeline<long>? _items;
    private readonly IAnchorPipeline<Request>? _requests;

    public AnchorImplementation(string name, BatchSink sink, BatchSettings settings, IAnchorPipelineFactory pipelines)
    {
        Name = name;
        if (settings.Requests)
        {
            _requests = pipelines.Create(settings, AnchorHandlers.Requests(sink));
        }
        else
        {
            _items = pipelines.Create(settings, AnchorHandlers.FireAndForget(sink));
        }
    }

    public string Name { get; }

    public long FullWaits => 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public ValueTask AddAsync(long id)
    {
        _items!.Post(id);
        return default;
    }

    /// <summary>None of the anchors has a bulk add for this shape: Dataflow, Rx and Channels take one item per call.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void AddRange(ReadOnlySpan<long> ids)
    {
        foreach (long id in ids)
        {
            _items!.Post(id);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
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

/// <summary>Creates <see cref="DataflowPipeline{T}"/>s.</summary>
internal sealed class DataflowPipelines : IAnchorPipelineFactory
{
    public IAnchorPipeline<T> Create<T>(BatchSettings settings, SpanHandler<T> handler) => new DataflowPipeline<T>(settings, handler);
}

/// <summary>Creates <see cref="RxPipeline{T}"/>s.</summary>
internal sealed class RxPipelines : IAnchorPipelineFactory
{
    public IAnchorPipeline<T> Create<T>(BatchSettings settings, SpanHandler<T> handler) => new RxPipeline<T>(settings, handler);
}

/// <summary>Creates <see cref="ChannelPipeline{T}"/>s.</summary>
internal sealed class ChannelPipelines : IAnchorPipelineFactory
{
    public IAnchorPipeline<T> Create<T>(BatchSettings settings, SpanHandler<T> handler) => new ChannelPipeline<T>(settings, handler);
}

/// <summary>Creates <see cref="ChannelDrainPipeline{T}"/>s.</summary>
internal sealed class ChannelDrainPipelines : IAnchorPipelineFactory
{
    public IAnchorPipeline<T> Create<T>(BatchSettings settings, SpanHandler<T> handler) => new ChannelDrainPipeline<T>(settings, handler);
}
