using System.Collections.Concurrent;
using System.Diagnostics;
using Polly;
using Polly.Retry;
using Tinybatch.Partitioning;
using Tinybatch.Polly;
using Xunit.Abstractions;

namespace Tinybatch.Sink.Tests;

/// <summary>
/// A Firehose-like sink (PutRecordBatch: at most 500 records and 4 MiB per call, 1,000 KiB per record, some records
/// failing inside a successful call) fed by several producers through a partitioned batcher, one partition per stream.
/// </summary>
public sealed partial class SinkSimulationTests(ITestOutputHelper output)
{
    private const int MaxRecordsPerCall = 500;
    private const long MaxBytesPerCall = 4L * 1024 * 1024;
    private const long MaxBytesPerRecord = 1000L * 1024;
    private const int Producers = 4;
    private const int EventsPerProducer = 50_000;
    private const int Events = Producers * EventsPerProducer;
    private const int Streams = 4;

    private sealed record SinkEvent(int Id, int Stream, int Bytes);

    /// <summary>Why the fake sink failed a record, as PutRecordBatch reports it per record.</summary>
    private sealed class RecordFailedException(string errorCode) : Exception($"PutRecordBatch failed the record: {errorCode}.")
    {
        public string ErrorCode { get; } = errorCode;
    }

    [Fact]
    public async Task PutRecordBatchSink_200kEventsFromFourProducers_EveryEventDeliveredOnceOrDeadLetteredAndNoLimitBroken()
    {
        var delivered = new int[Events];
        var deadLettered = new int[Events];
        var deadReasons = new DeadLetterReason?[Events];
        var refused = new int[Events];
        var violations = new ConcurrentQueue<string>();
        var deadByReason = new ConcurrentDictionary<string, int>();
        long calls = 0, maxRecords = 0, maxBytes = 0, failedRecordAttempts = 0;

        var partition = new BatcherOptions<SinkEvent, bool>
        {
            Name = "firehose",
            MaxBatchSize = MaxRecordsPerCall,
            MaxBatchWeight = MaxBytesPerCall,
            Weigher = e => e.Bytes,
            MaxBatchDelay = TimeSpan.FromMilliseconds(20),
            Capacity = 20_000,
            OverflowPolicy = OverflowPolicy.Wait,
            OnDeadLetter = dead =>
            {
                Interlocked.Increment(ref deadLettered[dead.Job.Id]);
                deadReasons[dead.Job.Id] = dead.Reason;
                string code = dead.Exception is RecordFailedException failed ? failed.ErrorCode : dead.Exception.GetType().Name;
                deadByReason.AddOrUpdate($"{dead.Reason}/{code}", 1, (_, n) => n + 1);
            },
        };
        PollyRetryPolicy retry = partition.UsePollyRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 3,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(2),
            MaxDelay = TimeSpan.FromMilliseconds(50),
            ShouldHandle = new PredicateBuilder().Handle<RecordFailedException>(e => e.ErrorCode != "InvalidArgumentException"),
        });

        ValueTask PutRecordBatch(int stream, Batch<SinkEvent, bool> batch, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref calls);
            long bytes = 0;
            for (int i = 0; i < batch.Count; i++)
            {
                SinkEvent record = batch[i];
                bytes += record.Bytes;
                if (record.Bytes > MaxBytesPerRecord)
                {
                    violations.Enqueue($"record {record.Id} has {record.Bytes} bytes");
                }

                if (record.Stream != stream)
                {
                    violations.Enqueue($"record {record.Id} of stream {record.Stream} sent to stream {stream}");
                }
            }

            if (batch.Count > MaxRecordsPerCall || bytes > MaxBytesPerCall)
            {
                violations.Enqueue($"call of {batch.Count} records, {bytes} bytes");
            }

            InterlockedMax(ref maxRecords, batch.Count);
            InterlockedMax(ref maxBytes, bytes);
            for (int i = 0; i < batch.Count; i++)
            {
                SinkEvent record = batch[i];
                string? error = FailureOf(record.Id, batch.GetAttempt(i));
                if (error is null)
                {
                    Interlocked.Increment(ref delivered[record.Id]);
                    batch.SetResult(i, true);
                }
                else
                {
                    Interlocked.Increment(ref failedRecordAttempts);
                    batch.RetryOrFail(i, new RecordFailedException(error), retry);
                }
            }

            return default;
        }

        var stopwatch = Stopwatch.StartNew();
        var batcher = new PartitionedBatcher<int, SinkEvent, bool>(
            e => e.Stream,
            PutRecordBatch,
            new PartitionedBatcherOptions<int, SinkEvent, bool> { Partition = partition, MaxBatchDelayJitter = TimeSpan.FromMilliseconds(10) });
        batcher.Start();

        Task[] producers = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            var random = new Random(1000 + p);
            for (int n = 0; n < EventsPerProducer; n++)
            {
                var e = new SinkEvent((p * EventsPerProducer) + n, random.Next(Streams), NextSize(random));

                // The sink refuses records over 1,000 KiB whatever the batch: refuse them before they are queued.
                if (e.Bytes > MaxBytesPerRecord)
                {
                    refused[e.Id] = 1;
                    continue;
                }

                await batcher.AddAsync(e);
            }
        })).ToArray();
        await Task.WhenAll(producers).WaitAsync(TimeSpan.FromMinutes(2));
        await batcher.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
        stopwatch.Stop();

        BatcherCounters counters = batcher.Counters;
        int deliveredEvents = delivered.Count(n => n > 0);
        int deadEvents = deadLettered.Count(n => n > 0);
        int refusedEvents = refused.Sum();
        output.WriteLine($"events {Events:N0} from {Producers} producers into {Streams} streams, {stopwatch.Elapsed.TotalSeconds:F2} s");
        output.WriteLine($"accepted {counters.Accepted:N0}, delivered {deliveredEvents:N0}, dead-lettered {deadEvents:N0}, refused over 1,000 KiB {refusedEvents:N0}, batcher-rejected {counters.Rejected:N0}");
        output.WriteLine($"PutRecordBatch calls {calls:N0} (batches {counters.Batches:N0}), max records per call {maxRecords}, max bytes per call {maxBytes:N0} (limit {MaxBytesPerCall:N0}), mean records per call {(double)(counters.Accepted + counters.Retried) / counters.Batches:F1}");
        output.WriteLine($"failed record attempts {failedRecordAttempts:N0}, retries {counters.Retried:N0}, partitions created {batcher.PartitionsCreated}");
        foreach ((string reason, int count) in deadByReason.OrderBy(kv => kv.Key))
        {
            output.WriteLine($"dead-lettered {reason}: {count:N0}");
        }

        Assert.Empty(violations);
        for (int id = 0; id < Events; id++)
        {
            int outcomes = delivered[id] + deadLettered[id] + refused[id];
            Assert.True(outcomes == 1, $"event {id}: delivered {delivered[id]}, dead-lettered {deadLettered[id]}, refused {refused[id]}");
        }

        Assert.Equal(Events, deliveredEvents + deadEvents + refusedEvents + (int)counters.Rejected);
        Assert.Equal(counters.Accepted, counters.Succeeded + counters.Failed);
        Assert.Equal(deliveredEvents, counters.Succeeded);
        Assert.Equal(deadEvents, counters.Failed);
        Assert.Equal(0, counters.Rejected + counters.Dropped + counters.Canceled + counters.Pending + counters.InFlight);

        // Every failed record attempt was either retried or ended the event.
        Assert.Equal(counters.Retried + counters.Failed, failedRecordAttempts);
        Assert.True(refusedEvents > 0 && deadEvents > 0 && counters.Retried > 0, "the simulation must exercise refusals, retries and dead letters");
        Assert.Contains(deadByReason.Keys, k => k.StartsWith(nameof(DeadLetterReason.RetriesExhausted), StringComparison.Ordinal));
        Assert.Contains(deadByReason.Keys, k => k.StartsWith(nameof(DeadLetterReason.Failed), StringComparison.Ordinal));
        Assert.Equal(MaxRecordsPerCall, maxRecords);
    }

    /// <summary>Mostly small events, some large, a few near the per-record cap and a few over it.</summary>
    private static int NextSize(Random random)
    {
        int roll = random.Next(1000);
        return roll switch
        {
            < 900 => random.Next(100, 2_000),
            < 990 => random.Next(2_000, 100_000),
            < 998 => random.Next(100_000, (int)MaxBytesPerRecord + 1),
            _ => random.Next((int)MaxBytesPerRecord + 1, 1_500_000),
        };
    }

    /// <summary>
    /// The sink's verdict on one record attempt, a pure function of the event and attempt so the run does not depend
    /// on thread timing: 3% throttled (retryable), every attempt of 1 in 5,000 events fails (poison: retries
    /// exhausted), and 1 in 10,000 events is invalid (not retryable: failed at once).
    /// </summary>
    private static string? FailureOf(int id, int attempt)
    {
        ulong h = Mix(((ulong)(uint)id << 8) | (uint)attempt);
        return (Mix((ulong)(uint)id) % 10_000) switch
        {
            0 => "InvalidArgumentException",
            < 3 => "InternalFailure",
            _ => h % 100 < 3 ? "ServiceUnavailableException" : null,
        };
    }

    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
        return x ^ (x >> 31);
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current = Volatile.Read(ref target);
        while (value > current)
        {
            long seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
