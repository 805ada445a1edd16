using System.Collections.Concurrent;
using System.Globalization;
using Polly;
using Polly.CircuitBreaker;
using Tinybatch.Polly;

namespace Tinybatch.Sink.Tests;

/// <summary>
/// The outage phase: the same Firehose-like sink fails every call for a few seconds while producers keep adding, then
/// recovers. The buffer's limits must hold through the outage (jobs waiting for a retry keep their places, so producers
/// wait), and every accepted record must reach the sink exactly once after it recovers.
/// </summary>
public sealed partial class SinkSimulationTests
{
    private const int OutageCapacity = 4_000;
    private const int OutageConcurrency = 2;
    private const int OutageEventsPerProducer = 50_000;
    private const int WarmUpEventsPerProducer = 5_000;
    private static readonly TimeSpan OutageLength = TimeSpan.FromSeconds(2.5);

    /// <summary>A whole-call failure: the sink itself is unavailable (as PutRecordBatch's ServiceUnavailableException).</summary>
    private sealed class SinkUnavailableException() : Exception("PutRecordBatch failed the call: ServiceUnavailableException.");

    [Fact]
    public async Task PutRecordBatchSink_DownForSecondsUnderLoad_UnfinishedJobsBoundedAndEveryRecordDeliveredOnceAfterRecovery()
    {
        const int Events = Producers * OutageEventsPerProducer;
        var delivered = new int[Events];
        var accepted = new bool[Events];
        var violations = new ConcurrentQueue<string>();
        long deliveredTotal = 0, failedCalls = 0, deadLetters = 0, refusedTooHeavy = 0, mostUnfinished = 0;
        bool down = false;

        var options = new BatcherOptions<SinkEvent>
        {
            Name = "firehose-outage",
            MaxBatchSize = MaxRecordsPerCall,
            MaxBatchWeight = MaxBytesPerCall,
            MaxJobWeight = MaxBytesPerRecord,
            Weigher = e => e.Bytes,
            MaxBatchDelay = TimeSpan.FromMilliseconds(20),
            MaxConcurrentBatches = OutageConcurrency,
            Capacity = OutageCapacity,
            MaxBufferedWeight = 64L * 1024 * 1024,
            OverflowPolicy = OverflowPolicy.Wait,

            // Retries are not what ends the outage: enough of them that no record runs out while the sink is down.
            Retry = new RetryPolicy { MaxAttempts = 1_000, Delay = TimeSpan.FromMilliseconds(50), RetryFailedBatches = true },
            OnDeadLetter = _ => Interlocked.Increment(ref deadLetters),
        };

        // One backoff for the whole stream: after two failed calls, dispatch pauses 100 ms, then 200, 400, 800 ms at most.
        options.UsePollyOutageBackoff(new CircuitBreakerStrategyOptions
        {
            FailureRatio = 0.5,
            MinimumThroughput = 2,
            SamplingDuration = TimeSpan.FromSeconds(1),
            BreakDurationGenerator = args => new ValueTask<TimeSpan>(TimeSpan.FromMilliseconds(100 << Math.Min(args.HalfOpenAttempts, 3))),
            ShouldHandle = new PredicateBuilder().Handle<SinkUnavailableException>(),
        });

        Batcher<SinkEvent>? batcher = null;
        void Sample()
        {
            BatcherCounters counters = batcher!.Counters;
            InterlockedMax(ref mostUnfinished, counters.Accepted - counters.Completed);
        }

        ValueTask PutRecordBatch(Batch<SinkEvent> batch, CancellationToken cancellationToken)
        {
            Sample();
            if (Volatile.Read(ref down))
            {
                Interlocked.Increment(ref failedCalls);
                throw new SinkUnavailableException();
            }

            long bytes = 0;
            for (int i = 0; i < batch.Count; i++)
            {
                bytes += batch[i].Bytes;
                if (batch[i].Bytes > MaxBytesPerRecord)
                {
                    violations.Enqueue($"record {batch[i].Id} has {batch[i].Bytes} bytes");
                }
            }

            if (batch.Count > MaxRecordsPerCall || bytes > MaxBytesPerCall)
            {
                violations.Enqueue($"call of {batch.Count} records, {bytes} bytes");
            }

            for (int i = 0; i < batch.Count; i++)
            {
                Interlocked.Increment(ref delivered[batch[i].Id]);
            }

            Interlocked.Add(ref deliveredTotal, batch.Count);
            return default;
        }

        batcher = new Batcher<SinkEvent>(PutRecordBatch, options);
        batcher.Start();
        using var finished = new CancellationTokenSource();
        Task sampler = Task.Run(async () =>
        {
            while (!finished.IsCancellationRequested)
            {
                Sample();
                await Task.Delay(1, CancellationToken.None);
            }
        });

        // Each producer adds a warm-up share while the sink is up, then waits for the outage to begin and keeps adding.
        var outageBegun = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var warmedUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int warming = Producers;
        Task[] producers = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            var random = new Random(2000 + p);
            for (int n = 0; n < OutageEventsPerProducer; n++)
            {
                if (n == WarmUpEventsPerProducer)
                {
                    if (Interlocked.Decrement(ref warming) == 0)
                    {
                        warmedUp.SetResult();
                    }

                    await outageBegun.Task;
                }

                var e = new SinkEvent((p * OutageEventsPerProducer) + n, 0, NextSize(random));
                try
                {
                    await batcher.AddAsync(e);
                }
                catch (JobTooHeavyException)
                {
                    // The batcher refuses a record over 1,000 KiB; the producer still holds it.
                    Interlocked.Increment(ref refusedTooHeavy);
                    continue;
                }

                accepted[e.Id] = true;
                Sample();
            }
        })).ToArray();

        // Steady state first; then the sink goes down for a few seconds while the producers keep adding.
        await warmedUp.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await batcher.FlushAsync().WaitAsync(TimeSpan.FromMinutes(1));
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        Volatile.Write(ref down, true);
        outageBegun.SetResult();
        await Task.Delay(OutageLength);
        long heapAtEnd = GC.GetTotalMemory(forceFullCollection: true);
        BatcherCounters duringOutage = batcher.Counters;
        Volatile.Write(ref down, false);

        await Task.WhenAll(producers).WaitAsync(TimeSpan.FromMinutes(2));
        await batcher.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
        await finished.CancelAsync();
        await sampler.WaitAsync(TimeSpan.FromMinutes(1));
        await batcher.DisposeAsync();

        int lost = Enumerable.Range(0, Events).Count(id => accepted[id] && delivered[id] == 0);
        int duplicated = delivered.Count(n => n > 1);
        int strays = Enumerable.Range(0, Events).Count(id => !accepted[id] && delivered[id] != 0);
        string line = string.Create(
            CultureInfo.InvariantCulture,
            $"outage: down_seconds={OutageLength.TotalSeconds:0.#} capacity={OutageCapacity} most_unfinished={mostUnfinished} retained_kib={(heapAtEnd - heapBefore) / 1024} lost={lost} duplicated={duplicated}");
        output.WriteLine(line);
        ResultsFile.Append("sink.txt", line);

        // During the outage the sink failed calls, the producers waited, and nothing ran out of attempts.
        Assert.True(failedCalls > 0, "the sink never failed a call");
        Assert.True(duringOutage.Retried > 0, $"no retry during the outage: {duringOutage}");
        Assert.InRange(mostUnfinished, 1, OutageCapacity + (OutageConcurrency * MaxRecordsPerCall));
        Assert.Empty(violations);
        Assert.Equal((0, 0, 0, 0L), (lost, duplicated, strays, deadLetters));

        // Every record was accepted and delivered once, or refused at the door as too heavy.
        BatcherCounters counters = batcher.Counters;
        Assert.Equal(Events, counters.Accepted + refusedTooHeavy);
        Assert.Equal(counters.Accepted, counters.Succeeded);
        Assert.Equal(counters.Accepted, deliveredTotal);
        Assert.Equal(refusedTooHeavy, counters.Rejected);
        Assert.True(refusedTooHeavy > 0, "the load must include records over 1,000 KiB");
    }
}
