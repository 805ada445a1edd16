using System.Diagnostics;

namespace Tinybatch.EventStream;

/// <summary>
/// The ceiling of <c>--compare</c>: the same events, made before the clock starts and cut into transactions of the
/// batched run's size, written straight into a fresh table of the same kind of store with the same settings, by as many
/// writers as the batched run had, with no batcher and no producers. The batched run can come close to this, never
/// beat it by much: what is left between the two is the demo's own cost (making events, the batcher, the handler).
/// </summary>
internal static class SinkAlone
{
    /// <summary>Writes the events into <paramref name="sink"/> and counts them back.</summary>
    /// <param name="events">The same events the batched run wrote, in id order.</param>
    /// <param name="count">How many of them to write.</param>
    /// <param name="batchSize">Events per transaction.</param>
    /// <param name="writers">Transactions written at once (capped by the store).</param>
    /// <param name="sink">The store (a separate table or database from the batched run's).</param>
    /// <param name="stop">Stops the run between transactions (Ctrl+C).</param>
    /// <returns>The result, counted back from the store.</returns>
    public static async Task<SinkAloneResult> RunAsync(
        IEnumerable<StreamEvent> events,
        long count,
        int batchSize,
        int writers,
        IEventSink sink,
        CancellationToken stop)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        await sink.InitializeAsync(CancellationToken.None);
        writers = Math.Clamp(writers, 1, sink.MaxConcurrentWriters);
        StreamEvent[][] batches = Cut(events, count, batchSize);

        // Nothing left over from making the events may be collected on the clock.
        GC.Collect();
        GC.WaitForPendingFinalizers();

        int next = -1;
        long written = 0;
        var clock = Stopwatch.StartNew();
        var loops = new Task[writers];
        for (int w = 0; w < writers; w++)
        {
            loops[w] = Task.Run(
                async () =>
                {
                    int index;
                    while (!stop.IsCancellationRequested && (index = Interlocked.Increment(ref next)) < batches.Length)
                    {
                        await sink.WriteBatchAsync(batches[index], CancellationToken.None);
                        Interlocked.Add(ref written, batches[index].Length);
                    }
                },
                CancellationToken.None);
        }

        await Task.WhenAll(loops);
        clock.Stop();
        long rows = await sink.CountAsync(CancellationToken.None);
        return new SinkAloneResult(written, rows, clock.Elapsed, batchSize, writers);
    }

    private static StreamEvent[][] Cut(IEnumerable<StreamEvent> events, long count, int batchSize)
    {
        var batches = new List<StreamEvent[]>((int)Math.Min(int.MaxValue, (count + batchSize - 1) / batchSize));
        var batch = new List<StreamEvent>(batchSize);
        long taken = 0;
        foreach (StreamEvent evt in events)
        {
            if (taken++ >= count)
            {
                break;
            }

            batch.Add(evt);
            if (batch.Count == batchSize)
            {
                batches.Add([.. batch]);
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            batches.Add([.. batch]);
        }

        return [.. batches];
    }
}
