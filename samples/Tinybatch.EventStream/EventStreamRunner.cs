using System.Diagnostics;

namespace Tinybatch.EventStream;

/// <summary>
/// The demo's one job: events from a source go through a result-less <see cref="Batcher{TJob}"/> into a sink, one
/// transaction per batch; then the store is counted back and every accepted id is accounted for.
/// </summary>
internal static class EventStreamRunner
{
    /// <summary>How many missing ids a result lists by name.</summary>
    public const int MaxMissingListed = 20;

    /// <summary>Runs the stream once.</summary>
    /// <param name="source">The events.</param>
    /// <param name="sink">The store; it is initialized (its table recreated) here.</param>
    /// <param name="settings">The batcher's settings.</param>
    /// <param name="progress">Shows progress, or <see langword="null"/> for none.</param>
    /// <param name="stop">Stops intake (Ctrl+C): accepted events are still drained and committed.</param>
    /// <returns>The result, verified against the store.</returns>
    public static async Task<RunResult> RunAsync(
        IEventSource source,
        IEventSink sink,
        RunSettings settings,
        IProgressDisplay? progress,
        CancellationToken stop)
    {
        await sink.InitializeAsync(CancellationToken.None);

        var latencies = new LatencyRecorder();
        long deadLetters = 0;
        Exception? firstFailure = null;
        var options = new BatcherOptions<StreamEvent>
        {
            Name = "event-stream",
            MaxBatchSize = settings.BatchSize,
            MaxBatchDelay = settings.Delay,
            Capacity = Math.Max(settings.Capacity, settings.BatchSize),
            MaxConcurrentBatches = Math.Clamp(settings.Concurrency, 1, sink.MaxConcurrentWriters),
            OnDeadLetter = letter =>
            {
                Interlocked.Increment(ref deadLetters);
                Interlocked.CompareExchange(ref firstFailure, letter.Exception, null);
            },
        };

        // Returning completes every event of the batch; throwing fails them all (and dead-letters them).
        var batcher = new Batcher<StreamEvent>(
            async (batch, cancellationToken) =>
            {
                await sink.WriteBatchAsync(batch, cancellationToken);

                // The transaction has committed: this is when the batch's events became durable.
                latencies.RecordBatch(batch, Stopwatch.GetTimestamp());
            },
            options);

        await using (batcher)
        {
            batcher.Start();
            long started = Stopwatch.GetTimestamp();
            Task intake = source.ProduceAsync(evt => batcher.AddAsync(evt with { AddedTimestamp = Stopwatch.GetTimestamp() }), stop);
            Task drained = DrainAfterAsync(intake, batcher);
            Task shown = progress?.ShowAsync(() => batcher.Counters, source.Count, drained) ?? Task.CompletedTask;

            Exception? sourceError = null;
            try
            {
                await intake;
            }
            catch (Exception ex)
            {
                // Bad input stops intake; what was accepted is still drained, committed and verified.
                sourceError = ex;
            }

            await drained;
            TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
            await shown;

            BatcherCounters counters = batcher.Counters;
            long rows = await sink.CountAsync(CancellationToken.None);
            (IReadOnlyList<long> missing, long missingCount) = rows == counters.Accepted
                ? ([], 0)
                : await FindMissingAsync(sink, counters.Accepted);

            return new RunResult
            {
                Accepted = counters.Accepted,
                Batches = counters.Batches,
                RowsVerified = rows,
                Counters = counters,
                Elapsed = elapsed,
                P50Ms = latencies.PercentileMs(50),
                P99Ms = latencies.PercentileMs(99),
                DeadLetters = Interlocked.Read(ref deadLetters),
                FirstFailure = firstFailure,
                SourceError = sourceError,
                Interrupted = stop.IsCancellationRequested,
                MissingIds = missing,
                MissingCount = missingCount,
            };
        }
    }

    /// <summary>Names the ids in 1..<paramref name="accepted"/> that the store does not hold.</summary>
    /// <param name="sink">The store.</param>
    /// <param name="accepted">The accepted events: exactly ids 1 to this number.</param>
    /// <returns>The first missing ids and how many are missing in all.</returns>
    internal static async Task<(IReadOnlyList<long> First, long Count)> FindMissingAsync(IEventSink sink, long accepted)
    {
        var first = new List<long>();
        long count = 0;
        long expected = 1;
        await foreach (long id in sink.ReadIdsAsync(CancellationToken.None))
        {
            for (; expected < id && expected <= accepted; expected++)
            {
                count++;
                if (first.Count < MaxMissingListed)
                {
                    first.Add(expected);
                }
            }

            expected = Math.Max(expected, id + 1);
        }

        for (; expected <= accepted; expected++)
        {
            count++;
            if (first.Count < MaxMissingListed)
            {
                first.Add(expected);
            }
        }

        return (first, count);
    }

    private static async Task DrainAfterAsync(Task intake, Batcher<StreamEvent> batcher)
    {
        try
        {
            await intake;
        }
        catch
        {
            // Reported by the caller; the drain happens either way.
        }

        // Stop closes intake and completes once every accepted event has an outcome: committed or dead-lettered.
        await batcher.StopAsync();
    }
}
