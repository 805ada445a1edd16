using System.Diagnostics;
using Tinybatch.Benchmarks.Implementations;

namespace Tinybatch.Benchmarks.Scenarios;

/// <summary>
/// S3, fixed count: many concurrent callers, each adding one item at a time and awaiting its own result (the id back),
/// each for a fixed share of the requests. Latency is add-to-awaiter-resumption, measured by the caller for every
/// request. Callers finish at different times and the last partial batches wait out the delay, so this variant
/// measures the drain tail as much as the cost per request: <see cref="SteadyRequestScenario"/> (S3-steady) leaves it out.
/// </summary>
internal sealed class RequestScenario : Scenario
{
    private readonly int _callers;
    private TaskCompletionSource? _go;
    private Task[] _tasks = [];

    public RequestScenario(string id, int callers, long requests)
        : base(id, $"{callers:N0} callers awaiting results, fixed count", requests, sampleShift: 0, requests: true, concurrentProducers: true)
    {
        _callers = callers;
    }

    public override Scenario WarmUp() => new RequestScenario(Id, _callers, Math.Max(20_000, Items / 10));

    protected override Task PrepareAsync(IBatchingImplementation implementation, BatchSink sink)
    {
        _go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _tasks = new Task[_callers];
        for (int c = 0; c < _callers; c++)
        {
            // Each caller runs to its first await (the gate) now, so its state machine is allocated before the clock starts.
            _tasks[c] = CallAsync(implementation, sink, _go.Task, c);
        }

        return Task.CompletedTask;
    }

    protected override Task ProduceAsync(IBatchingImplementation implementation, BatchSink sink)
    {
        _go!.SetResult();
        return Task.WhenAll(_tasks);
    }

    private async Task CallAsync(IBatchingImplementation implementation, BatchSink sink, Task go, int caller)
    {
        await go;
        for (long id = caller; id < Items; id += _callers)
        {
            long start = Stopwatch.GetTimestamp();
            long result = await implementation.AddAndWaitAsync(id);
            sink.RecordCallerLatency(id, start);
            if (result != id)
            {
                throw new InvalidOperationException($"{implementation.Name} returned {result} to the caller of request {id}.");
            }
        }
    }
}
