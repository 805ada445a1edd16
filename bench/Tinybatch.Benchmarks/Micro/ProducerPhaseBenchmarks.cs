using BenchmarkDotNet.Attributes;

namespace Tinybatch.Benchmarks.Micro;

/// <summary>
/// The producer's side alone: while the handler is held (so no consumer competes for the queue or its cache lines),
/// one thread adds <see cref="Jobs"/> jobs; the held jobs are drained between iterations, outside the measurement.
/// The batcher lives across iterations, so its queue has already grown: this is the steady-state cost of an add.
/// With <see cref="ConsumerPhaseBenchmarks"/>, the per-phase breakdown of the fire-and-forget cost.
/// </summary>
[MemoryDiagnoser]
public class ProducerPhaseBenchmarks
{
    private const int Jobs = 1 << 18;
    private readonly Gate _gate = new();
    private readonly Counter _counter = new();
    private Batcher<long, long>? _batcher;
    private RawChannelBatcher<long>? _channel;
    private Task _drained = Task.CompletedTask;

    [GlobalSetup]
    public void Setup()
    {
        Gate gate = _gate;
        Counter counter = _counter;
        _batcher = new Batcher<long, long>(
            (batch, _) =>
            {
                gate.PassThrough();
                for (int i = 0; i < batch.Count; i++)
                {
                    batch.SetResult(i, batch[i]);
                }

                counter.Add(batch.Count);
                return default;
            },
            new BatcherOptions<long, long> { MaxBatchSize = 100, MaxBatchDelay = TimeSpan.FromMilliseconds(10), Capacity = Jobs + 1000 });
        _batcher.Start();
        _channel = new RawChannelBatcher<long>(100, items =>
        {
            gate.PassThrough();
            counter.Add(items.Length);
        });
        _channel.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _gate.Open();
        _batcher!.StopAsync().GetAwaiter().GetResult();
        _channel!.CompleteAsync().GetAwaiter().GetResult();
    }

    [IterationSetup]
    public void HoldHandlers()
    {
        _drained = _counter.Expect(Jobs);
        _gate.Close();
    }

    [IterationCleanup]
    public void DrainHeldJobs()
    {
        _gate.Open();
        _drained.GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Jobs)]
    public void ChannelTryWrite()
    {
        RawChannelBatcher<long> channel = _channel!;
        for (long i = 0; i < Jobs; i++)
        {
            channel.TryWrite(i);
        }
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    public void TinybatchTryAdd()
    {
        Batcher<long, long> batcher = _batcher!;
        for (long i = 0; i < Jobs; i++)
        {
            if (!batcher.TryAdd(i))
            {
                throw new InvalidOperationException("The buffer filled up.");
            }
        }
    }
}
