using Tinybatch.EventStream;

namespace Tinybatch.IntegrationTests;

/// <summary>Wraps a real sink to inject faults or observe batches.</summary>
internal class ForwardingSink(IEventSink inner) : IEventSink
{
    public string Description => inner.Description;

    public string BatchMethod => inner.BatchMethod;

    public int MaxConcurrentWriters => inner.MaxConcurrentWriters;

    public virtual ValueTask WriteBatchAsync(IReadOnlyList<StreamEvent> events, CancellationToken cancellationToken) =>
        inner.WriteBatchAsync(events, cancellationToken);

    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public ValueTask WriteOneAsync(StreamEvent evt, CancellationToken cancellationToken) => inner.WriteOneAsync(evt, cancellationToken);

    public Task<long> CountAsync(CancellationToken cancellationToken) => inner.CountAsync(cancellationToken);

    public IAsyncEnumerable<long> ReadIdsAsync(CancellationToken cancellationToken) => inner.ReadIdsAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>Silently skips the events whose id is a multiple of <c>every</c>: a store that loses rows.</summary>
internal sealed class LossySink(IEventSink inner, long every) : ForwardingSink(inner)
{
    public override ValueTask WriteBatchAsync(IReadOnlyList<StreamEvent> events, CancellationToken cancellationToken) =>
        base.WriteBatchAsync(events.Where(e => e.Id % every != 0).ToList(), cancellationToken);
}

/// <summary>Fails every batch that holds a given id, before writing anything.</summary>
internal sealed class FailingSink(IEventSink inner, long poisonId) : ForwardingSink(inner)
{
    public override ValueTask WriteBatchAsync(IReadOnlyList<StreamEvent> events, CancellationToken cancellationToken) =>
        events.Any(e => e.Id == poisonId)
            ? throw new InvalidOperationException($"The store refused the batch holding event {poisonId}.")
            : base.WriteBatchAsync(events, cancellationToken);
}

/// <summary>Runs a callback after each committed batch (to stop a run at a known point, without sleeping).</summary>
internal sealed class ObservingSink(IEventSink inner, Action<int> afterCommit) : ForwardingSink(inner)
{
    private int _batches;

    public override async ValueTask WriteBatchAsync(IReadOnlyList<StreamEvent> events, CancellationToken cancellationToken)
    {
        await base.WriteBatchAsync(events, cancellationToken);
        afterCommit(Interlocked.Increment(ref _batches));
    }
}
