using BenchmarkDotNet.Attributes;

namespace Tinybatch.Benchmarks.Micro;

/// <summary>
/// Fire-and-forget end to end: producers on dedicated threads add jobs while the batcher runs; an invocation ends when
/// the handler has seen all of them. Per job: time and bytes. Baseline: a raw channel drained without a timer.
/// </summary>
[MemoryDiagnoser]
public class FireAndForgetBenchmarks
{
    private const int Jobs = 1 << 20;
    private readonly Counter _counter = new();
    private Batcher<long, long>? _batcher;
    private RawChannelBatcher<long>? _channel;

    [Params(1, 4)]
    public int Producers { get; set; }

    [Params(BatchingMode.Fixed, BatchingMode.Adaptive)]
    public BatchingMode Mode { get; set; }

    [GlobalSetup]
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
            new BatcherOptions<long, long> { MaxBatchSize = 100, MaxBatchDelay = TimeSpan.FromMilliseconds(10), Capacity = 1 << 16, Mode = Mode });
        _batcher.Start();
        _channel = new RawChannelBatcher<long>(100, items => counter.Add(items.Length));
        _channel.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _batcher!.StopAsync().GetAwaiter().GetResult();
        _channel!.CompleteAsync().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Jobs)]
    public void ChannelTryWrite()
    {
        RawChannelBatcher<long> channel = _channel!;
        Run(jobs =>
        {
            for (long i = 0; i < jobs; i++)
            {
                channel.TryWrite(i);
            }
        });
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    public void TinybatchTryAdd()
    {
        Batcher<long, long> batcher = _batcher!;
        Run(jobs =>
        {
            for (long i = 0; i < jobs; i++)
            {
                if (!batcher.TryAdd(i))
                {
                    batcher.AddAsync(i).AsTask().GetAwaiter().GetResult();
                }
            }
        });
    }

    private void Run(Action<long> produce)
    {
        Task done = _counter.Expect(Jobs);
        var threads = new Thread[Producers];
        for (int p = 0; p < threads.Length; p++)
        {
            threads[p] = new Thread(() => produce(Jobs / Producers));
            threads[p].Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        done.GetAwaiter().GetResult();
    }
}
