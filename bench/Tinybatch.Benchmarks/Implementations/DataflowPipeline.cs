using System.Threading.Tasks.Dataflow;

namespace Tinybatch.Benchmarks.Implementations;

/// <summary>TPL Dataflow: a BatchBlock linked to an ActionBlock, with a periodic timer calling TriggerBatch.</summary>
internal sealed class DataflowPipeline<T> : IAnchorPipeline<T>
{
    private readonly BatchBlock<T> _batch;
    private readonly ActionBlock<T[]> _action;
    private readonly Timer _timer;

    public DataflowPipeline(BatchSettings settings, SpanHandler<T> handler)
    {
        _batch = new BatchBlock<T>(settings.MaxBatchSize);
        _action = new ActionBlock<T[]>(items => handler(items));
        _batch.LinkTo(_action, new DataflowLinkOptions { PropagateCompletion = true });
        _timer = new Timer(static s => ((BatchBlock<T>)s!).TriggerBatch(), _batch, settings.MaxBatchDelay, settings.MaxBatchDelay);
    }

    public void Post(T item)
    {
        if (!_batch.Post(item))
        {
            throw new InvalidOperationException("The BatchBlock declined an item.");
        }
    }

    public async Task CompleteAsync()
    {
        await _timer.DisposeAsync();
        _batch.Complete();
        await _action.Completion;
    }

    public void Dispose() => _timer.Dispose();
}
