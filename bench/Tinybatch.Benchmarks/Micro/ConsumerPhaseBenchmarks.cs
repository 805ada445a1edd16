using BenchmarkDotNet.Attributes;

namespace Tinybatch.Benchmarks.Micro;

/// <summary>
/// The consumer's side alone: the jobs are queued before the batcher starts, then the benchmark times how long
/// dispatching and handling them takes, with no producer running.
/// </summary>
[MemoryDiagnoser]
public class ConsumerPhaseBenchmarks
{
    private const int Jobs = 1 << 20;
    private readonly Counter _counter = new();
    private Batcher<long, long>? _batcher;
    private RawChannelBatcher<long>? _channel;

    [Params(BatchingMode.Fixed, BatchingMode.Adaptive)]
    public BatchingMode Mode { get; set; }

    [IterationSetup]
    public void Setup()
    {
        Counter counter = _counter;
        _batcher = new Batcher<long, long>(
            (batch, _) =>
            {
                int count = batch.Count;
                for (int i = 0; i < count; i++)
                {
                    batch.SetResult(i, batch[i]);
                }

                counter.Add(count);
                return default;
            },
            new BatcherOptions<long, long> { MaxBatchSize = 100, MaxBatchDelay = TimeSpan.FromMilliseconds(10), Capacity = Jobs, Mode = Mode });
        _channel = new RawChannelBatcher<long>(100, items => counter.Add(items.Length));
        for (long i = 0; i < Jobs; i++)
        {
            _batcher.TryAdd(i);
            _channel.TryWrite(i);
        }
    }

    [IterationCleanup]
    public void Cleanup()
    {
        _batcher!.StopAsync().GetAwaiter().GetResult();
        _channel!.CompleteAsync().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Jobs)]
    public void ChannelDrain()
    {
        Task done = _counter.Expect(Jobs);
        _channel!.Start();
        done.GetAwaiter().GetResult();
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    public void TinybatchDrain()
    {
        Task done = _counter.Expect(Jobs);
        _batcher!.Start();
        done.GetAwaiter().GetResult();
    }
}
