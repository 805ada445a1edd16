using BenchmarkDotNet.Attributes;
using Tinybatch.Benchmarks.Implementations;

namespace Tinybatch.Benchmarks.Micro;

/// <summary>
/// Request/response: concurrent callers each add a job and await its own result, one request at a time.
/// Per request: time and bytes. Baseline: a raw channel of (id, TaskCompletionSource) drained without a timer.
/// </summary>
[MemoryDiagnoser]
public class AddAndWaitBenchmarks
{
    private const int Requests = 100_000;
    private Batcher<long, long>? _batcher;
    private RawChannelBatcher<Request>? _channel;

    [Params(100, 1000)]
    public int Callers { get; set; }

    [Params(BatchingMode.Fixed, BatchingMode.Adaptive)]
    public BatchingMode Mode { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _batcher = new Batcher<long, long>(
            (batch, _) =>
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    batch.SetResult(i, batch[i]);
                }

                return default;
            },
            new BatcherOptions<long, long> { MaxBatchSize = 100, MaxBatchDelay = TimeSpan.FromMilliseconds(10), Capacity = 1 << 16, Mode = Mode });
        _batcher.Start();
        _channel = new RawChannelBatcher<Request>(100, static items =>
        {
            foreach (Request request in items)
            {
                request.Promise.TrySetResult(request.Id);
            }
        });
        _channel.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _batcher!.StopAsync().GetAwaiter().GetResult();
        _channel!.CompleteAsync().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Requests)]
    public Task ChannelWithPromises() => RunCallers(id =>
    {
        TaskCompletionSource<long> promise = AnchorHandlers.NewPromise();
        _channel!.TryWrite(new Request(id, promise));
        return new ValueTask<long>(promise.Task);
    });

    [Benchmark(OperationsPerInvoke = Requests)]
    public Task TinybatchAddAndWait() => RunCallers(id => _batcher!.AddAndWaitAsync(id));

    private Task RunCallers(Func<long, ValueTask<long>> call)
    {
        var callers = new Task[Callers];
        for (int c = 0; c < callers.Length; c++)
        {
            callers[c] = CallAsync(call, c);
        }

        return Task.WhenAll(callers);
    }

    private async Task CallAsync(Func<long, ValueTask<long>> call, int caller)
    {
        for (long id = caller; id < Requests; id += Callers)
        {
            if (await call(id) != id)
            {
                throw new InvalidOperationException($"Request {id} got another request's result.");
            }
        }
    }
}
