using System.Runtime.CompilerServices;

namespace Tinybatch.Benchmarks.Implementations;

/// <summary>
/// Not a batcher, and never an anchor: each item is handed alone to the thread pool and delivered as a batch of one.
/// It runs only in S4, where it measures what waking an idle pool worker costs on this machine, in the same run: the
/// floor of add-to-handler latency for any design that does not run the handler on the producer's thread.
/// </summary>
internal sealed class HandoffFloorImplementation(BatchSink sink) : IBatchingImplementation
{
    private readonly object _handlerGate = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _outstanding = 1;

    public string Name => ImplementationFactory.DisplayName(ImplementationKind.HandoffFloor);

    public long FullWaits => 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public ValueTask AddAsync(long id)
    {
        Add(id);
        return default;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void AddRange(ReadOnlySpan<long> ids)
    {
        foreach (long id in ids)
        {
            Add(id);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public ValueTask<long> AddAndWaitAsync(long id) =>
        throw new NotSupportedException("The hand-off floor is measured for fire-and-forget items only (S4).");

    public Task CompleteAsync()
    {
        Release();
        return _drained.Task;
    }

    public ValueTask DisposeAsync() => default;

    private void Add(long id)
    {
        Interlocked.Increment(ref _outstanding);
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.Owner.Deliver(state.Id), (Owner: this, Id: id), preferLocal: false);
    }

    private void Deliver(long id)
    {
        // The sink allows one batch at a time; two items 1 ms apart practically never meet here.
        lock (_handlerGate)
        {
            long now = sink.BeginBatch();
            sink.OnItem(id, now);
            sink.EndBatch(1);
        }

        Release();
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _outstanding) == 0)
        {
            _drained.TrySetResult();
        }
    }
}
