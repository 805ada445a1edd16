using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Tinybatch.Benchmarks.Implementations;

/// <summary>
/// Not a batcher, and never an anchor: the single-queue floor. Producers enqueue each item into one
/// <see cref="ConcurrentQueue{T}"/> (one hand-off per item, no bound, no timer, no count), and a dedicated consumer
/// thread that never sleeps takes whatever is queued, up to a batch, and calls the handler. It measures, in the same
/// run, what a thread-to-thread hand-off of one item at a time costs at best on this machine. It burns a core while idle
/// and has no per-item result, so it runs only in the fire-and-forget throughput scenarios.
/// </summary>
internal sealed class FloorImplementation : IBatchingImplementation
{
    private readonly ConcurrentQueue<long> _queue = new();
    private readonly SpanHandler<long> _handler;
    private readonly int _maxBatchSize;
    private readonly TaskCompletionSource _consumed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _completed;

    public FloorImplementation(BatchSink sink, BatchSettings settings)
    {
        _handler = AnchorHandlers.FireAndForget(sink);
        _maxBatchSize = settings.MaxBatchSize;
        new Thread(Consume) { IsBackground = true, Name = "floor consumer" }.Start();
    }

    public string Name => ImplementationFactory.DisplayName(ImplementationKind.Floor);

    public long FullWaits => 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public ValueTask AddAsync(long id)
    {
        _queue.Enqueue(id);
        return default;
    }

    /// <summary><see cref="ConcurrentQueue{T}"/> has no bulk enqueue: one enqueue per item.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void AddRange(ReadOnlySpan<long> ids)
    {
        foreach (long id in ids)
        {
            _queue.Enqueue(id);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public ValueTask<long> AddAndWaitAsync(long id) =>
        throw new NotSupportedException("The single-queue floor is measured for fire-and-forget items only.");

    public Task CompleteAsync()
    {
        _completed = true;
        return _consumed.Task;
    }

    public ValueTask DisposeAsync()
    {
        _completed = true;
        return default;
    }

    private void Consume()
    {
        try
        {
            var buffer = new long[_maxBatchSize];
            var spinner = default(SpinWait);
            while (true)
            {
                // Read the flag before looking at the queue: every item enqueued before completion is then seen.
                bool completed = _completed;
                int count = 0;
                while (count < buffer.Length && _queue.TryDequeue(out long id))
                {
                    buffer[count++] = id;
                }

                if (count > 0)
                {
                    _handler(buffer.AsSpan(0, count));
                    spinner.Reset();
                }
                else if (completed)
                {
                    break;
                }
                else
                {
                    // Spin, yielding now and then, but never sleep: waking a sleeping thread is what this floor leaves out.
                    spinner.SpinOnce(sleep1Threshold: -1);
                }
            }

            _consumed.TrySetResult();
        }
        catch (Exception ex)
        {
            _consumed.TrySetException(ex);
        }
    }
}
