using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Tinybatch.ReliabilityTests.Support;

namespace Tinybatch.ReliabilityTests.Probes;

/// <summary>
/// Probes of the intake's fast paths through the public API: the ring sized from the capacity (and the backlog
/// beyond it), the cut that copies runs of plain jobs straight from the ring, and the per-thread spare completion
/// shared by batchers of the same job and result types.
/// </summary>
[Collection(ReliabilitySuite.Name)]
public sealed class IntakeFastPathProbeTests
{
    /// <summary>
    /// With the handler gated, a single producer adds until refused (or, for capacities past 200,000, adds more than
    /// twice the 65,536-slot ring): the buffer refuses exactly at Capacity, every accepted job reaches the handler
    /// exactly once and in add order, and the counters add up; one job at a time or in spans (TryAddRange).
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(100, false)]
    [InlineData(16_320, false)]
    [InlineData(16_384, false)]
    [InlineData(65_472, false)]
    [InlineData(65_536, false)]
    [InlineData(65_537, false)]
    [InlineData(200_000, false)]
    [InlineData(int.MaxValue, false)]
    [InlineData(1, true)]
    [InlineData(100, true)]
    [InlineData(16_320, true)]
    [InlineData(16_384, true)]
    [InlineData(65_472, true)]
    [InlineData(65_536, true)]
    [InlineData(65_537, true)]
    [InlineData(200_000, true)]
    [InlineData(int.MaxValue, true)]
    public async Task TryAdd_PastRingWithGatedHandler_ExactCapacityEveryJobOnceInOrder(int capacity, bool ranges)
    {
        int mark = Contained.Mark();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new List<int>();
        var batcher = new Batcher<int, int>(
            RecordAfter(gate, seen),
            new BatcherOptions<int, int> { MaxBatchSize = Math.Min(1_000, capacity), MaxBatchDelay = TimeSpan.Zero, Capacity = capacity });
        try
        {
            batcher.Start();
            int limit = capacity <= 200_000 ? capacity : 140_000;
            int accepted = 0;
            if (ranges)
            {
                // Spans of 777 cross the ring's end and the move into the backlog at arbitrary offsets.
                int[] span = new int[777];
                while (accepted < limit)
                {
                    int length = Math.Min(span.Length, limit - accepted);
                    for (int i = 0; i < length; i++)
                    {
                        span[i] = accepted + i;
                    }

                    int taken = batcher.TryAddRange(span.AsSpan(0, length));
                    accepted += taken;
                    if (taken < length)
                    {
                        break;
                    }
                }
            }
            else
            {
                while (accepted < limit && batcher.TryAdd(accepted))
                {
                    accepted++;
                }
            }

            Assert.Equal(limit, accepted);
            int refused = 0;
            if (capacity <= 200_000)
            {
                // Everything accepted holds its place until its outcome, in the handler or queued: full exactly here.
                Assert.False(batcher.TryAdd(-1));
                Assert.False(batcher.TryAdd(-2));
                refused = 2;
            }

            Assert.Equal(accepted, batcher.Counters.Accepted);
            Assert.Equal(refused, batcher.Counters.Rejected);

            gate.TrySetResult();
            await batcher.FlushAsync().Within(mark, "the flush after the release");
            await Contained.Until(() => batcher.Counters.Succeeded == accepted, mark, "every job's outcome");

            lock (seen)
            {
                Assert.Equal(accepted, seen.Count);
                for (int i = 0; i < seen.Count; i++)
                {
                    if (seen[i] != i)
                    {
                        Assert.Fail($"position {i} held job {seen[i]}: lost, duplicated or reordered");
                    }
                }
            }

            BatcherCounters counters = batcher.Counters;
            Assert.Equal(counters.Accepted, counters.Completed);
            Assert.Equal(0, counters.Failed + counters.Canceled + counters.Dropped);
            Assert.Equal(0, counters.Pending);

            // The place of every finished job is free again: the buffer takes Capacity more (bounded probe).
            Assert.True(batcher.TryAdd(accepted));
        }
        finally
        {
            gate.TrySetResult();
            await batcher.DisposeAsync().AsTask().Within(mark, "disposal");
        }
    }

    /// <summary>
    /// DropOldest past the ring: with the handler gated on its first batch, a single producer adds three times the
    /// capacity; every add is accepted, the evicted jobs are the oldest queued ones (each dead-lettered once as
    /// dropped), and the survivors reach the handler once each, in add order.
    /// </summary>
    [Theory]
    [InlineData(65_472)]
    [InlineData(65_537)]
    [InlineData(100_000)]
    public async Task TryAdd_DropOldestPastRing_OldestEvictedSurvivorsOnceInOrder(int capacity)
    {
        int mark = Contained.Mark();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new List<int>();
        var dropped = new ConcurrentDictionary<int, int>();
        var batcher = new Batcher<int, int>(
            RecordAfter(gate, seen),
            new BatcherOptions<int, int>
            {
                MaxBatchSize = 100,
                MaxBatchDelay = TimeSpan.Zero,
                Capacity = capacity,
                OverflowPolicy = OverflowPolicy.DropOldest,
                OnDeadLetter = letter => dropped.AddOrUpdate(letter.Job, 1, static (_, n) => n + 1),
            });
        try
        {
            batcher.Start();
            Assert.True(batcher.TryAdd(0));
            await Contained.Until(() => batcher.InFlightBatches == 1, mark, "the gated first batch");
            int total = capacity * 3;
            for (int job = 1; job < total; job++)
            {
                Assert.True(batcher.TryAdd(job), $"job {job} refused under DropOldest");
            }

            gate.TrySetResult();
            await batcher.FlushAsync().Within(mark, "the flush after the release");
            await Contained.Until(() => batcher.Counters.Completed == total && dropped.Count == batcher.Counters.Dropped, mark, "every outcome");

            BatcherCounters counters = batcher.Counters;
            Assert.Equal(total, counters.Accepted);
            Assert.Equal(total, counters.Succeeded + counters.Dropped);

            // The job in the handler keeps its place: the queue held exactly Capacity - 1 survivors behind it.
            Assert.Equal(capacity, counters.Succeeded);
            Assert.Equal(0, counters.Rejected + counters.Failed);
            Assert.All(dropped.Values, n => Assert.Equal(1, n));
            lock (seen)
            {
                Assert.Equal(counters.Succeeded, seen.Count);
                Assert.Equal(0, seen[0]);
                for (int i = 1; i < seen.Count; i++)
                {
                    Assert.True(seen[i] > seen[i - 1], $"job {seen[i]} after {seen[i - 1]}");
                }

                // Only the oldest were evicted: the survivors past the first batch are one unbroken run to the end.
                int firstSurvivor = seen.First(j => j > 0 && !dropped.ContainsKey(j));
                Assert.Equal(total - firstSurvivor, seen.Count(j => j >= firstSurvivor));
                Assert.Equal(total - 1, seen[^1]);
                Assert.DoesNotContain(seen, j => dropped.ContainsKey(j));
            }
        }
        finally
        {
            gate.TrySetResult();
            await batcher.DisposeAsync().AsTask().Within(mark, "disposal");
        }
    }

    /// <summary>
    /// Four producers race past the 65,536-slot ring into the backlog while the handler is gated: every job reaches the
    /// handler exactly once and each producer's jobs keep their order.
    /// </summary>
    [Theory]
    [InlineData(65_537)]
    [InlineData(int.MaxValue)]
    public async Task TryAdd_ConcurrentProducersIntoBacklog_EachJobOncePerProducerOrder(int capacity)
    {
        int mark = Contained.Mark();
        const int Producers = 4;
        const int PerProducer = 40_000;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new List<int>();
        var batcher = new Batcher<int, int>(
            RecordAfter(gate, seen),
            new BatcherOptions<int, int> { MaxBatchSize = 500, MaxBatchDelay = TimeSpan.Zero, Capacity = capacity });
        try
        {
            batcher.Start();
            int[] accepted = new int[Producers];
            await Task.WhenAll(Enumerable.Range(0, Producers).Select(p => Task.Run(() =>
            {
                for (int seq = 0; seq < PerProducer && batcher.TryAdd((p * 1_000_000) + seq); seq++)
                {
                    accepted[p]++;
                }
            }))).Within(mark, "the producers");

            int total = accepted.Sum();
            Assert.Equal(Math.Min(capacity, Producers * PerProducer), total);
            gate.TrySetResult();
            await batcher.FlushAsync().Within(mark, "the flush after the release");
            await Contained.Until(() => batcher.Counters.Succeeded == total, mark, "every job's outcome");

            lock (seen)
            {
                Assert.Equal(total, seen.Count);
                int[] next = new int[Producers];
                foreach (int job in seen)
                {
                    int p = job / 1_000_000;
                    Assert.True(job % 1_000_000 == next[p], $"producer {p}: job {job % 1_000_000} where {next[p]} was due");
                    next[p]++;
                }

                Assert.Equal(accepted, next);
            }
        }
        finally
        {
            gate.TrySetResult();
            await batcher.DisposeAsync().AsTask().Within(mark, "disposal");
        }
    }

    private sealed record Seen(int Producer, int Seq, int Phase, int Attempt, long BatchId);

    /// <summary>
    /// One stream mixing plain TryAdd jobs, awaited jobs (some cancelled while queued), weights under MaxBatchWeight
    /// and MaxBufferedWeight, an ActivityListener (so fire-and-forget jobs carry a trace link), a pending flush between
    /// two phases of concurrent producers, retries of failed jobs and failed batches, and DropOldest: batches stay
    /// within MaxBatchSize and MaxBatchWeight, the flush completes and no batch mixes first attempts from both sides
    /// of it, every accepted job ends in exactly one outcome, and each producer's first attempts keep their order.
    /// </summary>
    [Fact]
    public async Task MixedStream_PlainAwaitedTracedWeightedRetriedDropped_OneOutcomeEachWithinLimits()
    {
        int mark = Contained.Mark();
        const int Producers = 3;
        const int PerPhase = 300;
        const int MaxSize = 8;
        const long MaxWeight = 20;
        var time = new FakeTimeProvider();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new ConcurrentQueue<Seen[]>();
        var succeeded = new ConcurrentDictionary<int, int>();
        var deadLetters = new ConcurrentDictionary<int, int>();
        var batchProblems = new ConcurrentQueue<string>();
        int handlerCalls = 0;

        static int Encode(int producer, int phase, int seq) => (producer * 10_000) + (phase * 1_000) + seq;
        static long Weigh(int job) => (job % 5) + 1;

        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == TinybatchTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var producerSource = new ActivitySource("IntakeFastPathProbe");

        var batcher = new Batcher<int, int>(
            async (Batch<int, int> batch, CancellationToken _) =>
            {
                int call = Interlocked.Increment(ref handlerCalls);
                await gate.Task;
                var rows = new Seen[batch.Count];
                long weight = 0;
                for (int i = 0; i < batch.Count; i++)
                {
                    int job = batch[i];
                    weight += Weigh(job);
                    rows[i] = new Seen(job / 10_000, job % 1_000, (job / 1_000) % 10, batch.GetAttempt(i), batch.Id);
                }

                if (batch.Count > MaxSize || weight > MaxWeight)
                {
                    batchProblems.Enqueue($"batch {batch.Id}: {batch.Count} jobs, weight {weight}");
                }

                seen.Enqueue(rows);
                if (call % 5 == 0)
                {
                    throw new InjectedFailureException("whole batch fails (retried)");
                }

                for (int i = 0; i < batch.Count; i++)
                {
                    int job = batch[i];
                    if (job % 7 == 0 && batch.GetAttempt(i) == 1)
                    {
                        batch.Retry(i);
                    }
                    else if (job % 11 == 0)
                    {
                        batch.Fail(i, new InjectedFailureException("job fails"));
                    }
                    else
                    {
                        batch.SetResult(i, job + 1);
                    }
                }
            },
            new BatcherOptions<int, int>
            {
                MaxBatchSize = MaxSize,
                MaxBatchWeight = MaxWeight,
                MaxBufferedWeight = 600,
                Capacity = 256,
                MaxBatchDelay = TimeSpan.FromSeconds(1),
                OverflowPolicy = OverflowPolicy.DropOldest,
                TimeProvider = time,
                Weigher = Weigh,
                Retry = new RetryPolicy { MaxAttempts = 3, RetryFailedBatches = true },
                OnBatchCompleted = batch =>
                {
                    for (int i = 0; i < batch.Count; i++)
                    {
                        if (batch.GetStatus(i) == JobStatus.Succeeded)
                        {
                            succeeded.AddOrUpdate(batch[i], 1, static (_, n) => n + 1);
                        }
                    }
                },
                OnDeadLetter = letter => deadLetters.AddOrUpdate(letter.Job, 1, static (_, n) => n + 1),
            });

        var awaited = new ConcurrentDictionary<int, Task<int>>();
        var cancelledWhileQueued = new ConcurrentBag<int>();
        var tokens = new ConcurrentBag<CancellationTokenSource>();
        var accepted = new ConcurrentDictionary<int, bool>();
        Task flush = Task.CompletedTask;
        try
        {
            batcher.Start();

            Task Produce(int producer, int phase) => Task.Run(() =>
            {
                for (int seq = 0; seq < PerPhase; seq++)
                {
                    int job = Encode(producer, phase, seq);
                    switch (seq % 4)
                    {
                        case 0:
                        case 1:
                            if (batcher.TryAdd(job))
                            {
                                accepted[job] = true;
                            }

                            break;
                        case 2:
                            using (producerSource.StartActivity("produce"))
                            {
                                if (batcher.TryAdd(job))
                                {
                                    accepted[job] = true;
                                }
                            }

                            break;
                        default:
                            var cts = new CancellationTokenSource();
                            tokens.Add(cts);
                            awaited[job] = batcher.AddAndWaitAsync(job, cts.Token).AsTask();
                            accepted[job] = true;
                            if (seq % 8 == 3)
                            {
                                cancelledWhileQueued.Add(job);
                                cts.Cancel();
                            }

                            break;
                    }
                }
            });

            await Task.WhenAll(Enumerable.Range(0, Producers).Select(p => Produce(p, 1))).Within(mark, "phase 1 producers");
            flush = batcher.FlushAsync();
            await Task.WhenAll(Enumerable.Range(0, Producers).Select(p => Produce(p, 2))).Within(mark, "phase 2 producers");
            Assert.False(flush.IsCompleted);

            gate.TrySetResult();
            await flush.Within(mark, "the pending flush");
            for (int tick = 0; tick < 50 && batcher.Counters.Completed < batcher.Counters.Accepted; tick++)
            {
                time.Advance(TimeSpan.FromSeconds(1));
                await batcher.FlushAsync().Within(mark, "a drain flush");
            }

            await Contained.Until(() => batcher.Counters.Completed == batcher.Counters.Accepted, mark, "every outcome");
            foreach (Task<int> task in awaited.Values)
            {
                await task.Settled(mark, "an awaited job");
            }

            BatcherCounters counters = batcher.Counters;
            try
            {
                await Contained.Until(
                    () => succeeded.Count + deadLetters.Count + counters.Canceled == accepted.Count,
                    mark,
                    "every outcome seen once");
            }
            catch (TimeoutException)
            {
                string Describe(int job) =>
                    $"{job}: ok {succeeded.GetValueOrDefault(job)}, dead {deadLetters.GetValueOrDefault(job)}, "
                    + (awaited.TryGetValue(job, out Task<int>? t) ? $"awaited {t.Status} {t.Exception?.InnerException?.GetType().Name}" : "plain")
                    + $", attempts seen [{string.Join(",", seen.SelectMany(b => b).Where(r => Encode(r.Producer, r.Phase, r.Seq) == job).Select(r => r.Attempt))}]";
                int[] odd = [.. accepted.Keys.Where(j => succeeded.GetValueOrDefault(j) + deadLetters.GetValueOrDefault(j) != 1)];
                Assert.Fail($"{counters}; succeeded {succeeded.Count}, dead {deadLetters.Count}, accepted {accepted.Count}; odd {odd.Length}: " + string.Join(" | ", odd.Take(10).Select(Describe)));
            }

            Assert.Empty(batchProblems);
            Assert.Equal(accepted.Count, counters.Accepted);
            Assert.Equal(0, counters.Rejected);
            Assert.Equal(counters.Accepted, counters.Completed);

            int removedWhileQueued = 0;
            foreach (int job in accepted.Keys)
            {
                int outcomes = succeeded.GetValueOrDefault(job) + deadLetters.GetValueOrDefault(job);
                if (awaited.TryGetValue(job, out Task<int>? task))
                {
                    if (task.IsCanceled)
                    {
                        // Removed while queued (counted Canceled), or dispatched first: then still processed, only
                        // the wait ended (README, "Cancelling a caller"), with one outcome of its own.
                        Assert.True(outcomes <= 1, $"job {job} cancelled and also had {outcomes} other outcomes");
                        removedWhileQueued += outcomes == 0 ? 1 : 0;
                        continue;
                    }

                    if (task.IsCompletedSuccessfully)
                    {
                        Assert.Equal(job + 1, await task);
                        Assert.True(succeeded.GetValueOrDefault(job) == 1, $"awaited job {job} got a result without a success");
                    }
                }

                Assert.True(outcomes == 1, $"job {job} ended in {outcomes} outcomes");
            }

            Assert.Equal(counters.Canceled, removedWhileQueued);
            Assert.True(counters.Canceled <= cancelledWhileQueued.Count);

            // The scenario reached every path it is meant to mix.
            Assert.True(counters.Retried > 0, "no retry");
            Assert.True(counters.Dropped > 0, "no drop");
            Assert.True(counters.Canceled > 0, "no cancellation while queued");
            Assert.True(counters.Failed > 0, "no failure");
            Assert.Contains(awaited.Values, t => t.IsCompletedSuccessfully);

            Seen[][] batches = [.. seen];
            foreach (Seen[] rows in batches)
            {
                var firsts = rows.Where(r => r.Attempt == 1).Select(r => r.Phase).Distinct().ToArray();
                Assert.True(firsts.Length <= 1, $"batch {rows[0].BatchId} mixed first attempts from both sides of the flush");
            }

            for (int p = 0; p < Producers; p++)
            {
                int[] order = [.. batches.SelectMany(b => b).Where(r => r.Producer == p && r.Attempt == 1).Select(r => (r.Phase * 1_000) + r.Seq)];
                for (int i = 1; i < order.Length; i++)
                {
                    Assert.True(order[i] > order[i - 1], $"producer {p}: first attempt {order[i]} after {order[i - 1]}");
                }
            }

            var firstAttempts = batches.SelectMany(b => b).Where(r => r.Attempt == 1).GroupBy(r => (r.Producer, r.Phase, r.Seq));
            Assert.All(firstAttempts, g => Assert.Single(g));
        }
        finally
        {
            gate.TrySetResult();
            Contained.Observe(flush);
            await batcher.DisposeAsync().AsTask().Within(mark, "disposal");
            foreach (CancellationTokenSource cts in tokens)
            {
                cts.Dispose();
            }
        }
    }

    /// <summary>A handler that waits for <paramref name="gate"/>, then records each job in <paramref name="seen"/> and echoes it.</summary>
    private static Func<Batch<int, int>, CancellationToken, ValueTask> RecordAfter(TaskCompletionSource gate, List<int> seen) =>
        async (batch, _) =>
        {
            await gate.Task;
            lock (seen)
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    seen.Add(batch[i]);
                    batch.SetResult(i, batch[i]);
                }
            }
        };

    private static Batcher<int, int> Doubling(int offset) => new(
        (Batch<int, int> batch, CancellationToken _) =>
        {
            for (int i = 0; i < batch.Count; i++)
            {
                batch.SetResult(i, (batch[i] * 4) + offset);
            }

            return ValueTask.CompletedTask;
        },
        new BatcherOptions<int, int> { MaxBatchSize = 16, MaxBatchDelay = TimeSpan.Zero });

    /// <summary>
    /// Three batchers of the same job and result types, used alternately by many callers on the same pool threads,
    /// one disposed mid-way: every result is its own request's (each batcher adds its own offset), nothing hangs,
    /// calls to the disposed batcher fail with <see cref="BatcherStoppedException"/>, and the disposed batcher is
    /// collected once the test lets go of it.
    /// </summary>
    [Fact]
    public async Task AddAndWaitAsync_SameTypedBatchersAlternatedOneDisposed_ResultsNeverCrossAndDisposedIsCollected()
    {
        int mark = Contained.Mark();
        const int Callers = 8;
        const int Rounds = 1_500;
        await using Batcher<int, int> a = Doubling(1);
        await using Batcher<int, int> b = Doubling(2);
        a.Start();
        b.Start();
        var holder = new Batcher<int, int>?[1];
        WeakReference disposed = StartThird(holder);
        var wrong = new ConcurrentQueue<string>();
        int stoppedCalls = 0;
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int arrived = 0;

        async Task Caller(int caller)
        {
            for (int round = 0; round < Rounds; round++)
            {
                int job = (caller * 100_000) + round;
                if (round == Rounds / 2 && Interlocked.Increment(ref arrived) == Callers)
                {
                    halfway.TrySetResult();
                }

                int ra = await a.AddAndWaitAsync(job);
                Batcher<int, int>? c = holder[0];
                if (c is not null)
                {
                    try
                    {
                        int rc = await c.AddAndWaitAsync(job);
                        if (rc != (job * 4) + 3)
                        {
                            wrong.Enqueue($"C: job {job} got {rc}");
                        }
                    }
                    catch (BatcherStoppedException)
                    {
                        Interlocked.Increment(ref stoppedCalls);
                    }
                }

                int rb = await b.AddAndWaitAsync(job);
                if (ra != (job * 4) + 1)
                {
                    wrong.Enqueue($"A: job {job} got {ra}");
                }

                if (rb != (job * 4) + 2)
                {
                    wrong.Enqueue($"B: job {job} got {rb}");
                }
            }
        }

        Task all = Task.WhenAll(Enumerable.Range(0, Callers).Select(c => Task.Run(() => Caller(c))));
        await halfway.Task.Within(mark, "the callers reaching half-way");
        await DisposeThird(holder).Within(mark, "disposal of the third batcher");
        await all.Within(mark, "the callers");

        Assert.Empty(wrong);
        Assert.True(stoppedCalls <= Callers, $"{stoppedCalls} calls hit the disposed batcher; at most one per caller can");
        Assert.Equal(Callers * Rounds, a.Counters.Succeeded);
        Assert.Equal(Callers * Rounds, b.Counters.Succeeded);
        await Contained.Until(() => Collected(disposed), mark, "collection of the disposed batcher");
    }

    /// <summary>
    /// A caller cancels after its job was dispatched: its call ends either with its own result or cancelled, never
    /// with another's; later calls on the same batchers (which may reuse the spare completion) get their own results.
    /// </summary>
    [Fact]
    public async Task AddAndWaitAsync_CancelledAfterDispatch_OwnResultOrCancelledAndNextCallsUnaffected()
    {
        int mark = Contained.Mark();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batcher = new Batcher<int, int>(
            async (Batch<int, int> batch, CancellationToken _) =>
            {
                await gate.Task;
                for (int i = 0; i < batch.Count; i++)
                {
                    batch.SetResult(i, batch[i] * 10);
                }
            },
            new BatcherOptions<int, int> { MaxBatchSize = 4, MaxBatchDelay = TimeSpan.Zero });
        await using Batcher<int, int> other = Doubling(1);
        other.Start();
        try
        {
            batcher.Start();
            for (int round = 0; round < 50; round++)
            {
                using var cts = new CancellationTokenSource();
                Task<int> late = batcher.AddAndWaitAsync(round, cts.Token).AsTask();
                await Contained.Until(() => batcher.InFlightBatches == 1, mark, "the dispatched batch");
                cts.Cancel();
                gate.TrySetResult();
                await late.Settled(mark, "the late-cancelled call");
                if (late.IsCompletedSuccessfully)
                {
                    Assert.Equal(round * 10, await late);
                }
                else
                {
                    Assert.True(late.IsCanceled, $"round {round}: {late.Exception}");
                }

                Assert.Equal((round * 4) + 1, await other.AddAndWaitAsync(round).AsTask().Within(mark, "the other batcher"));
                Assert.Equal((round + 1) * 10, await batcher.AddAndWaitAsync(round + 1).AsTask().Within(mark, "the next call"));
                gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        finally
        {
            gate.TrySetResult();
            await batcher.DisposeAsync().AsTask().Within(mark, "disposal");
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference StartThird(Batcher<int, int>?[] holder)
    {
        Batcher<int, int> c = Doubling(3);
        c.Start();
        holder[0] = c;
        return new WeakReference(c);
    }

    /// <summary>Lets go of the third batcher first (callers then skip it), then disposes it.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static Task DisposeThird(Batcher<int, int>?[] holder)
    {
        Batcher<int, int> c = Interlocked.Exchange(ref holder[0], null)!;
        return c.DisposeAsync().AsTask();
    }

    private static bool Collected(WeakReference reference)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return !reference.IsAlive;
    }
}
