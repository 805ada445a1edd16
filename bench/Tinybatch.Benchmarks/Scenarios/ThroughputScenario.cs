using Tinybatch.Benchmarks.Implementations;

namespace Tinybatch.Benchmarks.Scenarios;

/// <summary>
/// S1 and S2: producers on dedicated threads add fire-and-forget items as fast as they can, each its own range of ids.
/// Latency is add-to-handler, sampled for one item in 16 so that timing does not dominate the producers' loop.
/// </summary>
internal sealed class ThroughputScenario : Scenario
{
    private readonly int _producers;
    private Thread[] _threads = [];
    private ManualResetEventSlim? _go;
    private TaskCompletionSource? _done;
    private int _running;

    public ThroughputScenario(string id, int producers, long items)
        : base(id, $"{producers} producer{(producers == 1 ? "" : "s")}, fire-and-forget", items, sampleShift: 4, requests: false, concurrentProducers: producers > 1)
    {
        _producers = producers;
    }

    public override Scenario WarmUp() => new ThroughputScenario(Id, _producers, Math.Max(100_000, Items / 10));

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

        if (Interlocked.Decrement(ref _running) == 0)
        {
            _done!.TrySetResult();
        }
    }
}
