using System.Runtime.CompilerServices;

namespace Tinybatch.Benchmarks.Implementations;

/// <summary>
/// Tinybatch, fire-and-forget through <see cref="Batcher{TJob, TResult}.TryAdd"/> (falling back to
/// <see cref="Batcher{TJob, TResult}.AddAsync"/> when the buffer is full, counted) or request/response through
/// <see cref="Batcher{TJob, TResult}.AddAndWaitAsync"/>.
/// </summary>
internal sealed class TinybatchImplementation : IBatchingImplementation
{
    private readonly Batcher<long, long> _batcher;
    private long _fullWaits;

    public TinybatchImplementation(BatchSink sink, BatchSettings settings, BatchingMode mode)
    {
        Name = mode == BatchingMode.Adaptive ? "Tinybatch (adaptive)" : "Tinybatch";
        var options = new BatcherOptions<long, long>
        {
            MaxBatchSize = settings.MaxBatchSize,
            MaxBatchDelay = settings.MaxBatchDelay,
            Mode = mode,
            Capacity = 1 << 16,
            Name = "bench",
        };

        // The per-job outcome shape: the results go straight onto the batch, nothing is allocated per batch.
        _batcher = new Batcher<long, long>(
            [MethodImpl(MethodImplOptions.NoInlining)] (batch, _) =>
            {
                long now = sink.BeginBatch();
                int count = batch.Count;
                for (int i = 0; i < count; i++)
                {
                    long id = batch[i];
                    sink.OnItem(id, now);
                    batch.SetResult(i, id);
                }

                sink.EndBatch(count);
                return default;
            },
            options);
        _batcher.Start();
    }

    public string Name { get; }

    public long FullWaits => Volatile.Read(ref _fullWaits);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public ValueTask AddAsync(long id)
    {
        if (_batcher.TryAdd(id))
        {
            return default;
        }

        Interlocked.Increment(ref _fullWaits);
        return _batcher.AddAsync(id);
    }

    /// <summary>
    /// The bulk add: one call for the whole span where the batcher has room, then the single add's fallback for the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void AddRange(ReadOnlySpan<long> ids)
    {
        // TODO(API): TryAddRange(ReadOnlySpan<TJob>) claims the whole span at once.
        foreach (long id in ids)
        {
            ValueTask added = AddAsync(id);
            if (!added.IsCompletedSuccessfully)
            {
                added.AsTask().GetAwaiter().GetResult();
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public ValueTask<long> AddAndWaitAsync(long id) => _batcher.AddAndWaitAsync(id);

    public Task CompleteAsync() => _batcher.StopAsync();

    public ValueTask DisposeAsync() => _batcher.DisposeAsync();
}
