using System.Runtime.CompilerServices;

namespace Tinybatch.Benchmarks.Implementations;

/// <summary>
/// Tinybatch in the shape a user would pick for each mode. Fire-and-forget items go into the result-less
/// <see cref="Batcher{TJob}"/> (the anchors produce no result either) through <see cref="Batcher{TJob}.TryAdd"/>, or
/// <see cref="Batcher{TJob}.TryAddRange"/> for a span, falling back to <see cref="Batcher{TJob}.AddAsync"/> when the
/// buffer is full (counted). Requests go into <see cref="Batcher{TJob, TResult}"/> through
/// <see cref="Batcher{TJob, TResult}.AddAndWaitAsync"/>, the handler setting each job's result on the batch.
/// </summary>
internal sealed class TinybatchImplementation : IBatchingImplementation
{
    private readonly Batcher<long>? _items;
    private readonly Batcher<long, long>? _requests;
    private long _fullWaits;

    public TinybatchImplementation(BatchSink sink, BatchSettings settings, BatchingMode mode)
    {
        Name = mode == BatchingMode.Adaptive ? "Tinybatch (adaptive)" : "Tinybatch";
        if (settings.Requests)
        {
            _requests = new Batcher<long, long>(RequestHandler(sink), Configure(new BatcherOptions<long, long>(), settings, mode));
            _requests.Start();
        }
        else
        {
            _items = new Batcher<long>(ItemHandler(sink), Configure(new BatcherOptions<long>(), settings, mode));
            _items.Start();
        }
    }

    public string Name { get; }

    public long FullWaits => Volatile.Read(ref _fullWaits);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public ValueTask AddAsync(long id)
    {
        if (_items!.TryAdd(id))
        {
            return default;
        }

        Interlocked.Increment(ref _fullWaits);
        return _items.AddAsync(id);
    }

    /// <summary>
    /// The bulk add: one call for the whole span, then the single add's fallback for what did not fit.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void AddRange(ReadOnlySpan<long> ids)
    {
        int accepted = _items!.TryAddRange(ids);
        for (int i = accepted; i < ids.Length; i++)
        {
            Interlocked.Increment(ref _fullWaits);
            ValueTask added = _items.AddAsync(ids[i]);
            if (!added.IsCompletedSuccessfully)
            {
                added.AsTask().GetAwaiter().GetResult();
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public ValueTask<long> AddAndWaitAsync(long id) => _requests!.AddAndWaitAsync(id);

    public Task CompleteAsync() => _items?.StopAsync() ?? _requests!.StopAsync();

    public ValueTask DisposeAsync() => _items?.DisposeAsync() ?? _requests!.DisposeAsync();

    private static T Configure<T>(T options, BatchSettings settings, BatchingMode mode)
        where T : BatcherOptions
    {
        options.MaxBatchSize = settings.MaxBatchSize;
        options.MaxBatchDelay = settings.MaxBatchDelay;
        options.Mode = mode;
        options.Capacity = 1 << 16;
        options.Name = "bench";
        return options;
    }

    /// <summary>Counts each id, as the anchors' handler does; every job succeeds when it returns.</summary>
    private static Func<Batch<long>, CancellationToken, ValueTask> ItemHandler(BatchSink sink) =>
        [MethodImpl(MethodImplOptions.NoInlining)] (batch, _) =>
        {
            long now = sink.BeginBatch();
            int count = batch.Count;
            for (int i = 0; i < count; i++)
            {
                sink.OnItem(batch[i], now);
            }

            sink.EndBatch(count);
            return default;
        };

    /// <summary>The per-job outcome shape: the results go straight onto the batch, nothing is allocated per batch.</summary>
    private static Func<Batch<long, long>, CancellationToken, ValueTask> RequestHandler(BatchSink sink) =>
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
        };
}
