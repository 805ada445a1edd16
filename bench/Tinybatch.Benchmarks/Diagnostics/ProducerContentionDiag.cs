using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;

namespace Tinybatch.Benchmarks.Diagnostics;

/// <summary>
/// The producer side alone, with 1, 4 and 16 threads on this machine's cores: adds into a warm structure that nobody
/// drains while the clock runs. Warm means its queue has already grown deeper than the measured run makes it (600 k
/// items in, then out), so no figure includes queue growth. Tinybatch's add (a reservation compare-and-swap, a
/// striped counter, a lock-free queue entry) against a channel's <c>TryWrite</c> (a lock) and a bare
/// <see cref="ConcurrentQueue{T}"/> of the same ids.
/// </summary>
internal static class ProducerContentionDiag
{
    private const long WarmUp = 600_000;
    private const long Measured = 500_000;

    public static void Run()
    {
        foreach (int threads in new[] { 1, 4, 16 })
        {
            for (int round = 1; round <= 3; round++)
            {
                double tinybatch = MeasureTinybatch(threads);
                Channel<long> channel = Channel.CreateUnbounded<long>();
                double channelNs = MeasureWarm(threads, id => channel.Writer.TryWrite(id), () => Drain(channel.Reader));
                var queue = new ConcurrentQueue<long>();
                double queueNs = MeasureWarm(threads, queue.Enqueue, () => Drain(queue));
                Console.WriteLine(
                    $"{threads,2} producers, round {round}: Tinybatch TryAdd {tinybatch,6:F1} ns/add   " +
                    $"Channel TryWrite {channelNs,6:F1} ns/add   ConcurrentQueue<long>.Enqueue {queueNs,6:F1} ns/add");
            }
        }
    }

    private static void Drain(ChannelReader<long> reader)
    {
        while (reader.TryRead(out _))
        {
        }
    }

    /// <summary>Empties the queue item by item: <c>Clear</c> would drop its grown segment.</summary>
    private static void Drain(ConcurrentQueue<long> queue)
    {
        while (queue.TryDequeue(out _))
        {
        }
    }

    /// <summary>Grows the structure, empties it, then times <see cref="Measured"/> adds from <paramref name="threads"/> threads.</summary>
    private static double MeasureWarm(int threads, Action<long> add, Action drain)
    {
        for (long i = 0; i < WarmUp; i++)
        {
            add(i);
        }

        drain();
        return Time(threads, add);
    }

    private static double MeasureTinybatch(int threads)
    {
        // The handler holds its first batch while the warm-up fills the queue (so the queue grows as deep as the
        // measured run will make it), lets everything through, then holds again for the measured adds: the queue is
        // warm and nothing drains it while the clock runs.
        using var hold = new ManualResetEventSlim(false);
        var batcher = new Batcher<long, long>(
            (jobs, ct) =>
            {
                hold.Wait(ct);
                return jobs;
            },
            new BatcherOptions<long, long> { MaxBatchSize = 100, Capacity = (int)WarmUp });
        batcher.Start();
        for (long i = 0; i < WarmUp; i++)
        {
            batcher.TryAdd(i);
        }

        hold.Set();
        batcher.FlushAsync().GetAwaiter().GetResult();
        hold.Reset();
        double ns = Time(threads, id => batcher.TryAdd(id));
        hold.Set();
        batcher.StopAsync().GetAwaiter().GetResult();
        return ns;
    }

    private static double Time(int threads, Action<long> add)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var go = new ManualResetEventSlim();
        Thread[] producers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            go.Wait();
            for (long i = 0; i < Measured / threads; i++)
            {
                add(i);
            }
        })).ToArray();
        foreach (Thread producer in producers)
        {
            producer.Start();
        }

        Thread.Sleep(20);
        long start = Stopwatch.GetTimestamp();
        go.Set();
        foreach (Thread producer in producers)
        {
            producer.Join();
        }

        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / Measured;
    }
}
