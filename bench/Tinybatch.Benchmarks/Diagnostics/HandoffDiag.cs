using System.Diagnostics;
using System.Threading.Channels;
using Tinybatch.Benchmarks.Scenarios;

namespace Tinybatch.Benchmarks.Diagnostics;

/// <summary>
/// What handing one item from a paced producer thread (one per millisecond, as in S4) to a waiting consumer costs on
/// this machine, three ways: a thread-pool work item, a dedicated thread blocked on a semaphore, and a channel's
/// <c>ReadAsync</c> consumer. Any batcher that does not run the handler on the producer's thread pays one of these.
/// </summary>
internal static class HandoffDiag
{
    private const int Items = 1000;

    public static void Run()
    {
        for (int round = 1; round <= 3; round++)
        {
            Console.WriteLine($"round {round}");
            Console.WriteLine(Report("thread-pool work item", PoolWorkItem()));
            Console.WriteLine(Report("dedicated thread, semaphore", DedicatedThread()));
            Console.WriteLine(Report("channel ReadAsync consumer", ChannelReader()));
        }
    }

    private static long[] PoolWorkItem()
    {
        var latencies = new long[Items];
        var producer = new Thread(() =>
        {
            for (int i = 0; i < Items; i++)
            {
                long start = Stopwatch.GetTimestamp();
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.Latencies[s.Index] = Stopwatch.GetTimestamp() - s.Start, (Latencies: latencies, Index: i, Start: start), preferLocal: false);
                Pace(start);
            }
        });
        producer.Start();
        producer.Join();
        Thread.Sleep(50);
        return latencies;
    }

    private static long[] DedicatedThread()
    {
        var latencies = new long[Items];
        using var signal = new SemaphoreSlim(0);
        long stamp = 0;
        var consumer = new Thread(() =>
        {
            for (int i = 0; i < Items; i++)
            {
                signal.Wait();
                latencies[i] = Stopwatch.GetTimestamp() - Volatile.Read(ref stamp);
            }
        });
        consumer.Start();
        var producer = new Thread(() =>
        {
            for (int i = 0; i < Items; i++)
            {
                long start = Stopwatch.GetTimestamp();
                Volatile.Write(ref stamp, start);
                signal.Release();
                Pace(start);
            }
        });
        producer.Start();
        producer.Join();
        consumer.Join();
        return latencies;
    }

    private static long[] ChannelReader()
    {
        var latencies = new long[Items];
        Channel<long> channel = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
        Task reader = Task.Run(async () =>
        {
            for (int i = 0; i < Items; i++)
            {
                long start = await channel.Reader.ReadAsync();
                latencies[i] = Stopwatch.GetTimestamp() - start;
            }
        });
        var producer = new Thread(() =>
        {
            for (int i = 0; i < Items; i++)
            {
                long start = Stopwatch.GetTimestamp();
                channel.Writer.TryWrite(start);
                Pace(start);
            }
        });
        producer.Start();
        producer.Join();
        reader.GetAwaiter().GetResult();
        return latencies;
    }

    /// <summary>Waits until 1 ms after <paramref name="start"/>, as the S4 producer paces its items.</summary>
    private static void Pace(long start) => Pacing.WaitUntil(start + Pacing.IntervalTicks);

    private static string Report(string name, long[] latencies)
    {
        Array.Sort(latencies);
        static double Us(long ticks) => ticks * 1e6 / Stopwatch.Frequency;
        return $"  {name,-28} p50 {Us(latencies[Items / 2]),7:F1} µs  p90 {Us(latencies[Items * 9 / 10]),7:F1} µs  p99 {Us(latencies[Items * 99 / 100]),8:F1} µs";
    }
}
