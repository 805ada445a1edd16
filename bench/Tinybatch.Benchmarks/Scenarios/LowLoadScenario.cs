using System.Diagnostics;
using Tinybatch.Benchmarks.Implementations;

namespace Tinybatch.Benchmarks.Scenarios;

/// <summary>
/// S4: one producer adds one item every millisecond, paced by spinning on the high-resolution clock (Task.Delay(1)
/// would take a timer tick, several milliseconds here). Latency is add-to-handler for every item.
/// </summary>
internal sealed class LowLoadScenario : Scenario
{
    private Thread? _thread;
    private ManualResetEventSlim? _go;
    private TaskCompletionSource? _done;

    public LowLoadScenario(string id, long items)
        : base(id, "1 item per ms, low load", items, sampleShift: 0, requests: false, concurrentProducers: false)
    {
    }

    public override Scenario WarmUp() => new LowLoadScenario(Id, Math.Max(100, Items / 10));

    protected override Task PrepareAsync(IBatchingImplementation implementation, BatchSink sink)
    {
        var go = new ManualResetEventSlim(false);
        _go = go;
        _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _thread = new Thread(() => Produce(implementation, sink, go)) { IsBackground = true, Name = "paced producer" };
        _thread.Start();
        return Task.CompletedTask;
    }

    protected override Task ProduceAsync(IBatchingImplementation implementation, BatchSink sink)
    {
        _go!.Set();
        return _done!.Task;
    }

    private void Produce(IBatchingImplementation implementation, BatchSink sink, ManualResetEventSlim go)
    {
        try
        {
            go.Wait();
            for (long id = 0; id < Items; id++)
            {
                sink.StampAdd(id);
                ValueTask added = implementation.AddAsync(id);
                if (!added.IsCompletedSuccessfully)
                {
                    added.AsTask().GetAwaiter().GetResult();
                }

                // The next item goes out 1 ms after this one: no catch-up bursts after a preemption.
                Pacing.WaitUntil(Stopwatch.GetTimestamp() + Pacing.IntervalTicks);
            }
        }
        catch (Exception ex)
        {
            _done!.TrySetException(ex);
        }

        _done!.TrySetResult();
    }
}
