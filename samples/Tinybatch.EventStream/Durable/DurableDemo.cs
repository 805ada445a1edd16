using System.Diagnostics;
using System.Globalization;
using Tinybatch.Durable;

namespace Tinybatch.EventStream.Durable;

/// <summary>
/// The demo's durable mode: producers add events to a <see cref="DurableBatcher{TJob}"/> journalled in a directory,
/// batches go into an idempotent sink, and a restart on the same directory replays what was not stored.
/// </summary>
internal static class DurableDemo
{
    public static async Task<int> RunAsync(DurableDemoOptions options, TextWriter output, CancellationToken stop)
    {
        Directory.CreateDirectory(options.Directory);
        if (options.Compare)
        {
            return await DurableCompare.RunAsync(options, output, stop);
        }

        await using var sink = options.CreateSink();
        await sink.InitializeAsync(reset: false);
        output.WriteLine($"store: {sink.Description}");
        var batcherOptions = BatcherOptions(options, options.Directory, options.Commit, sink);
        long deadLettered = 0;
        batcherOptions.OnDeadLetter = letter =>
        {
            // A job that ended without reaching the table: said aloud, never dropped in silence.
            Interlocked.Increment(ref deadLettered);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"dead {letter.Job.Job.Id} reason={letter.Reason} attempts={letter.Job.Attempt}: {letter.Exception?.Message}"));
        };
        long accepted = 0;
        var started = Stopwatch.GetTimestamp();
        long recovered;
        await using (var batcher = new DurableBatcher<DurableEvent>((batch, ct) => WriteAsync(sink, batch, ct), batcherOptions))
        {
            recovered = batcher.RecoveredCount;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"journal: {Path.GetFullPath(options.Directory)} ({options.Commit}); recovered {recovered} unfinished events, replayed first"));
            batcher.Start();
            await ProduceAsync(options.Producers, options.FirstId, options.Events, async (evt, ct) =>
            {
                await batcher.AddAsync(evt, ct);
                Interlocked.Increment(ref accepted);
                if (options.ReportAccepted)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ok {evt.Id}"));
                }
            }, stop);
            await batcher.StopAsync(CancellationToken.None);
            var j = batcher.JournalCounters;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"journal: appended={j.Appended} released={j.Released} commits={j.Commits} live={j.LiveJobs} corruptions={j.CorruptionsDetected} disk_bytes={j.DiskBytes}"));
        }

        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        long rows = await sink.CountAsync();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"durable: accepted={accepted} recovered={recovered} rows={rows} elapsed={seconds:F2}s ({accepted / Math.Max(seconds, 1e-9):F0} events/s)"));
        return 0;
    }

    internal static DurableBatcherOptions<DurableEvent> BatcherOptions(DurableDemoOptions options, string directory, JournalCommitMode mode, IIdempotentSink sink) => new()
    {
        Name = "event-stream-durable",
        Directory = directory,
        JsonTypeInfo = DurableEventJson.Default.DurableEvent,
        CommitMode = mode,
        MaxBatchSize = options.BatchSize,
        MaxBatchDelay = options.Delay,
        Capacity = Math.Max(4 * options.BatchSize, 4000),
        MaxConcurrentBatches = sink.MaxConcurrentWriters,

        // The sink writes idempotently, so a retry is always safe: a failed write is retried rather than dead-lettered.
        // MaxAttempts also counts hand-offs that a killed process never finished (the journal's guard against a job
        // that kills the process): a slow sink behind repeated kills charges the same replayed jobs on every restart,
        // so the limit sits well above the kills in a row the crash test makes (docs/DURABILITY.md, "Attempts").
        Retry = new RetryPolicy { MaxAttempts = 50, RetryFailedBatches = true, Delay = TimeSpan.FromMilliseconds(100) },
    };

    /// <summary>The handler: one idempotent transaction per batch.</summary>
    internal static ValueTask WriteAsync(IIdempotentSink sink, DurableBatch<DurableEvent> batch, CancellationToken cancellationToken)
    {
        var events = new DurableEvent[batch.Count];
        for (int i = 0; i < events.Length; i++)
        {
            events[i] = batch[i].Job;
        }

        return sink.WriteAsync(events, cancellationToken);
    }

    /// <summary>Runs <paramref name="producers"/> producers over ids first..first+count-1, each taking the next id.</summary>
    internal static async Task ProduceAsync(int producers, long firstId, long count, Func<DurableEvent, CancellationToken, ValueTask> add, CancellationToken stop)
    {
        long next = firstId - 1;
        long last = firstId + count - 1;
        await Task.WhenAll(Enumerable.Range(0, producers).Select(_ => Task.Run(async () =>
        {
            long id;
            while (!stop.IsCancellationRequested && (id = Interlocked.Increment(ref next)) <= last)
            {
                try
                {
                    await add(DurableEvent.Create(id), stop);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
            }
        })));
    }
}
