using Tinybatch.Benchmarks.Implementations;

namespace Tinybatch.Benchmarks.Scenarios;

/// <summary>
/// S1, S1-bulk and S2: producers on dedicated threads add fire-and-forget items as fast as they can, each its own range
/// of ids, one item per call or (S1-bulk) a span of <c>bulk</c> items per call. Latency is add-to-handler, sampled for
/// one item in 16 so that timing does not dominate the producers' loop.
/// </summary>
internal sealed class ThroughputScenario : Scenario
{
    private readonly int _producers;
    private readonly int _bulk;
    private Thread[] _threads = [];
    private ManualResetEventSlim? _go;
    private TaskCompletionSource? _done;
    private int _running;

    public ThroughputScenario(string id, int producers, long items, int bulk = 1)
        : base(id, Describe(producers, bulk), items, sampleShift: 4, requests: false, concurrentProducers: producers > 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bulk);
        _producers = producers;
        _bulk = bulk;
    }

    public override Scenario WarmUp() => new ThroughputScenario(Id, _producers, Math.Max(100_000, Items / 10), _bulk);

    protected override Task PrepareAsync(IBatchingImplementation implementation, BatchSink sink)
    {
        var go = new ManualResetEventSlim(false);
        _go = go;
        _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _running = _producers;
        _threads = new Thread[_producers];
        for (int p = 0; p < _producers; p++)
        {
            long from = Items * p / _producers;
            long to = Items * (p + 1) / _producers;
            _threads[p] = new Thread(() => Produce(implementation, sink, go, from, to)) { IsBackground = true, Name = $"producer {p}" };
            _threads[p].Start();
        }

        return Task.CompletedTask;
    }

    protected override Task ProduceAsync(IBatchingImplementation implementation, BatchSink sink)
    {
        // Producers report through a task rather than Join: blocking a thread-pool thread would starve the handlers.
        _go!.Set();
        return _done!.Task;
    }

    private void Produce(IBatchingImplementation implementation, BatchSink sink, ManualResetEventSlim go, long from, long to)
    {
        try
        {
            go.Wait();
            if (_bulk > 1)
            {
                ProduceInBulk(implementation, sink, from, to);
                return;
            }

            for (long id = from; id < to; id++)
            {
                sink.StampAdd(id);
                ValueTask added = implementation.AddAsync(id);
                if (!added.IsCompletedSuccessfully)
                {
                    added.AsTask().GetAwaiter().GetResult();
                }
            }
        }
        catch (Exception ex)
        {
            _done!.TrySetException(ex);
        }
        finally
        {
            if (Interlocked.Decrement(ref _running) == 0)
            {
                _done!.TrySetResult();
            }
        }
    }

    private static string Describe(int producers, int bulk) =>
        $"{producers} producer{(producers == 1 ? "" : "s")}, fire-and-forget{(bulk > 1 ? $", {bulk} per call" : "")}";

    private void ProduceInBulk(IBatchingImplementation implementation, BatchSink sink, long from, long to)
    {
        // One reused span of ids per call, as a producer that holds many jobs at once would pass them.
        var ids = new long[_bulk];
        for (long id = from; id < to;)
        {
            int count = (int)Math.Min(_bulk, to - id);
            for (int i = 0; i < count; i++, id++)
            {
                ids[i] = id;
                sink.StampAdd(id);
            }

            implementation.AddRange(ids.AsSpan(0, count));
        }
    }
}
