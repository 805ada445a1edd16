using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>Contract point 6: FlushAsync dispatches what is pending and waits for the outcomes of earlier jobs.</summary>
public class FlushTests
{
    private static BatcherOptions<int, int> Options(int size = 10, TimeSpan? delay = null) => new()
    {
        MaxBatchSize = size,
        MaxBatchDelay = delay ?? TimeSpan.FromHours(1),
        TimeProvider = new FakeTimeProvider(),
    };

    [Fact]
    public async Task FlushAsync_PartialBatchLingering_DispatchesNowWithoutTimePassing()
    {
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(recorder.Echo, Options());
        batcher.Start();
        batcher.TryAdd(1);
        batcher.TryAdd(2);
        batcher.TryAdd(3);

        await batcher.FlushAsync().Guarded();

        Assert.Equal([1, 2, 3], Assert.Single(recorder.Batches));
        Assert.Equal(3, batcher.Counters.Succeeded);
    }

    [Fact]
    public async Task FlushAsync_EarlierJobsFail_CompletesNormallyAfterTheirOutcome()
    {
        await using var batcher = new Batcher<int, int>(Handlers.Throwing<int, int>(new InvalidOperationException("boom")), Options());
        batcher.Start();
        Task<int> awaited = batcher.AddAndWaitAsync(1).AsTask();
        batcher.TryAdd(2);

        await batcher.FlushAsync().Guarded();

        // The outcome is set before the flush completes; the awaiter's continuation runs asynchronously.
        Assert.Equal(2, batcher.Counters.Failed);
        await Assert.ThrowsAsync<InvalidOperationException>(() => awaited.Guarded());
    }

    [Fact]
    public async Task FlushAsync_BatchInFlight_CompletesOnlyWhenItFinishes()
    {
        var gate = new HandlerGate();
        await using var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                await gate.PassAsync();
                return jobs;
            },
            Options(size: 1));
        batcher.Start();
        batcher.TryAdd(1);
        await gate.WhenEnteredAsync(1);

        Task flush = batcher.FlushAsync();
        batcher.TryAdd(2);
        Assert.False(flush.IsCompleted);

        gate.Open();
        await flush.Guarded();
        Assert.True(batcher.Counters.Succeeded >= 1);
    }

    [Fact]
    public async Task FlushAsync_JobsAddedAfterTheCall_AreNotWaitedFor()
    {
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, Options(delay: Timeout.InfiniteTimeSpan));
        batcher.Start();
        Task<int> before = batcher.AddAndWaitAsync(1).AsTask();

        Task flush = batcher.FlushAsync();
        Task<int> after = batcher.AddAndWaitAsync(2).AsTask();
        await flush.Guarded();

        Assert.Equal(1, await before.Guarded());
        await batcher.IdleAsync();
        Assert.False(after.IsCompleted, "a job added after the flush call stays pending in size-only mode");
        await batcher.FlushAsync().Guarded();
        Assert.Equal(2, await after.Guarded());
    }

    [Fact]
    public async Task FlushAsync_NothingPending_Completes()
    {
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, Options());
        batcher.Start();

        await batcher.FlushAsync().Guarded();

        Assert.Equal(0, batcher.Counters.Batches);
    }

    [Fact]
    public async Task FlushAsync_BeforeStart_CompletesOnceStartedAndProcessed()
    {
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(recorder.Echo, Options());
        batcher.TryAdd(1);

        Task flush = batcher.FlushAsync();
        Assert.False(flush.IsCompleted);

        batcher.Start();
        await flush.Guarded();
        Assert.Equal([1], Assert.Single(recorder.Batches));
    }

    [Fact]
    public async Task FlushAsync_TokenCancelled_CancelsTheWaitButJobsStillRun()
    {
        var gate = new HandlerGate();
        await using var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                await gate.PassAsync();
                return jobs;
            },
            Options());
        batcher.Start();
        batcher.TryAdd(1);
        using var cts = new CancellationTokenSource();

        Task flush = batcher.FlushAsync(cts.Token);
        await gate.WhenEnteredAsync(1);
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => flush.Guarded());
        gate.Open();
        await batcher.FlushAsync().Guarded();
        Assert.Equal(1, batcher.Counters.Succeeded);
    }

    [Fact]
    public async Task FlushAsync_AfterStop_CompletesAtOnce()
    {
        var batcher = new Batcher<int, int>((jobs, ct) => jobs, Options());
        batcher.Start();
        await batcher.StopAsync().Guarded();

        Assert.True(batcher.FlushAsync().IsCompletedSuccessfully);
    }

    [Fact]
    public async Task FlushAsync_EarlierJobRetriedWithDelay_WaitsForItsFinalOutcome()
    {
        var time = new FakeTimeProvider();
        var handler = new RetryFirstCall(1);
        await using var batcher = new Batcher<int, int>(
            handler.Handle,
            new BatcherOptions<int, int>
            {
                MaxBatchDelay = TimeSpan.FromHours(1),
                TimeProvider = time,
                Retry = new RetryPolicy { MaxAttempts = 2, Delay = TimeSpan.FromSeconds(5) },
            });
        batcher.Start();
        batcher.TryAdd(1);

        Task flush = batcher.FlushAsync();
        await batcher.IdleAsync();
        bool completedBeforeOutcome = flush.IsCompleted;
        time.Advance(TimeSpan.FromSeconds(5));

        // No idle poke: the retry timer alone must bring the job back and the flush to completion.
        bool done = await flush.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(t => t.Exception is null, TaskScheduler.Default);
        Assert.True(done, $"Flush never completed after the retry was due: {batcher.Counters}, calls = {handler.Calls}");
        await batcher.FlushAsync().Guarded();

        Assert.Equal(1, batcher.Counters.Succeeded);
        Assert.False(
            completedBeforeOutcome,
            "Contract: FlushAsync completes when every job added before the call has an outcome. It completed while the "
            + "job was waiting for its retry, with no outcome yet.");
    }
    /// <summary>
    /// A retried job goes back into the queue and its caller may cancel it there. The flush waits for retried jobs of
    /// earlier batches; this one has no outcome left to wait for, so it must not hold the flush. Either as the carry
    /// (the first job of the next batch) or behind another job.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FlushAsync_RetriedJobCancelledByItsCallerWhileQueued_CompletesWithoutIt(bool behindAnotherJob)
    {
        var gate = new HandlerGate();
        var recorder = new Recorder<int>();
        int calls = 0;
        await using var batcher = new Batcher<int, int>(
            async (batch, ct) =>
            {
                recorder.Record(batch);
                if (Interlocked.Increment(ref calls) == 1)
                {
                    await gate.PassAsync();
                }

                for (int i = 0; i < batch.Count; i++)
                {
                    if (batch[i] == 1 && batch.GetAttempt(i) == 1)
                    {
                        batch.Retry(i);
                    }
                    else
                    {
                        batch.SetResult(i, batch[i]);
                    }
                }
            },
            new BatcherOptions<int, int>
            {
                MaxBatchSize = 3,
                MaxBatchDelay = TimeSpan.FromHours(1),
                TimeProvider = new FakeTimeProvider(),
                Retry = new RetryPolicy { MaxAttempts = 3, Delay = TimeSpan.Zero },
            });
        batcher.Start();
        using var cts = new CancellationTokenSource();
        Task<int> retried = batcher.AddAndWaitAsync(1, cts.Token).AsTask();
        batcher.TryAdd(2);
        batcher.TryAdd(4);
        await gate.WhenEnteredAsync(1);
        if (behindAnotherJob)
        {
            // Job 3 becomes the next batch's first job while batch 1 is held; job 1's retry queues behind it.
            batcher.TryAdd(3);
        }

        gate.Open();
        await batcher.IdleAsync();
        Assert.False(retried.IsCompleted);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => retried.Guarded());
        await batcher.FlushAsync().Guarded();

        int[][] expected = behindAnotherJob ? [[1, 2, 4], [3]] : [[1, 2, 4]];
        Assert.Equal(expected, recorder.Batches.ToArray());
        Assert.Equal((1, behindAnotherJob ? 3 : 2), (batcher.Counters.Canceled, batcher.Counters.Succeeded));
    }
    /// <summary>
    /// A retried job re-enters the queue behind a job added after the flush, while the only handler slot is held by
    /// another such job, and its caller cancels it there. The cancellation is its final outcome: the flush completes at
    /// once, not when the held slot frees and the loop reaches the cancelled entry.
    /// </summary>
    [Fact]
    public async Task FlushAsync_RetriedJobCancelledWhileQueuedBehindLaterJobsAndSlotHeld_CompletesAtTheCancellation()
    {
        var time = new FakeTimeProvider();
        var gate = new HandlerGate();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            async (batch, ct) =>
            {
                recorder.Record(batch);
                if (batch[0] == 2)
                {
                    await gate.PassAsync();
                }

                if (batch[0] == 1 && batch.GetAttempt(0) == 1)
                {
                    batch.Retry(0);
                }
                else
                {
                    batch.SetResult(0, batch[0]);
                }
            },
            new BatcherOptions<int, int>
            {
                MaxBatchSize = 1,
                MaxConcurrentBatches = 1,
                MaxBatchDelay = TimeSpan.FromHours(1),
                TimeProvider = time,
                Retry = new RetryPolicy { MaxAttempts = 2, Delay = TimeSpan.FromSeconds(5) },
            });
        batcher.Start();
        using var cts = new CancellationTokenSource();
        Task<int> retried = batcher.AddAndWaitAsync(1, cts.Token).AsTask();
        await batcher.IdleAsync();

        // Job 1 waits for its retry; the flush waits for it. Job 2 then holds the only slot, job 3 queues.
        Task flush = batcher.FlushAsync();
        batcher.TryAdd(2);
        await gate.WhenEnteredAsync(1);
        batcher.TryAdd(3);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(flush.IsCompleted);
        Assert.False(retried.IsCompleted);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => retried.Guarded());
        await WaitUntilAsleepAsync(batcher);
        bool completedAtCancellation = flush.IsCompleted;

        gate.Open();
        await batcher.FlushAsync().Guarded();
        Assert.True(
            completedAtCancellation,
            "Contract: a flush completes when every job accepted before it has its final outcome. The only earlier job "
            + "was cancelled by its caller while queued for its retry, yet the flush waited for the held slot.");
        Assert.Equal([[1], [2], [3]], recorder.Batches.ToArray());
        BatcherCounters counters = batcher.Counters;
        Assert.Equal((1L, 2L, 1L, 0L), (counters.Canceled, counters.Succeeded, counters.Retried, counters.Failed));
    }

    /// <summary>Waits until the dispatch loop has handled every poke and parked (a batch may be in flight).</summary>
    private static async Task WaitUntilAsleepAsync(Batcher<int, int> batcher)
    {
        using var guard = new CancellationTokenSource(Guard.Timeout);
        while (!batcher.IsLoopAsleep)
        {
            guard.Token.ThrowIfCancellationRequested();
            await Task.Yield();
        }
    }

    /// <summary>
    /// DropOldest evicts a job added before a pending flush: the flush no longer waits for it (its outcome is the drop),
    /// and still waits for the jobs before it that are in a handler call. Jobs added after the flush are not released
    /// by it.
    /// </summary>
    [Fact]
    public async Task FlushAsync_EarlierJobEvictedByDropOldest_CompletesOnceTheOthersHaveOutcomes()
    {
        var first = new HandlerGate();
        var recorder = new Recorder<int>();
        var dropped = new List<int>();
        var deadLettered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var batcher = new Batcher<int, int>(
            async (batch, ct) =>
            {
                recorder.Record(batch);
                if (batch.Id == 1)
                {
                    await first.PassAsync();
                }

                for (int i = 0; i < batch.Count; i++)
                {
                    batch.SetResult(i, batch[i]);
                }
            },
            new BatcherOptions<int, int>
            {
                MaxBatchSize = 3,

                // Three places for the batch in its handler, two for queued jobs.
                Capacity = 5,
                MaxBatchDelay = TimeSpan.FromHours(1),
                OverflowPolicy = OverflowPolicy.DropOldest,
                TimeProvider = new FakeTimeProvider(),
                OnDeadLetter = d =>
                {
                    lock (dropped)
                    {
                        dropped.Add(d.Job);
                    }

                    deadLettered.TrySetResult();
                },
            });
        batcher.Start();
        batcher.TryAdd(1);
        batcher.TryAdd(2);
        batcher.TryAdd(3);
        await first.WhenEnteredAsync(1);

        batcher.TryAdd(4);
        Task flush = batcher.FlushAsync();
        batcher.TryAdd(5);

        // Full: job 6 evicts job 4, the oldest queued, which was added before the flush.
        Assert.True(batcher.TryAdd(6));
        await deadLettered.Task.Guarded();
        lock (dropped)
        {
            Assert.Equal([4], dropped);
        }

        Assert.False(flush.IsCompleted, "The flush completed while jobs 1 to 3, added before it, were still in their handler.");
        first.Open();
        await flush.Guarded();

        // Jobs 5 and 6 came after the flush: it does not release them; they linger for their delay.
        await batcher.IdleAsync();
        Assert.Equal([[1, 2, 3]], recorder.Batches.ToArray());
        Assert.Equal(2, batcher.PendingCount);
    }

    /// <summary>
    /// Two jobs of one batch are retried; one succeeds on its second attempt, the other needs a third. A flush issued
    /// after the first batch waits for the last of them, not the first.
    /// </summary>
    [Fact]
    public async Task FlushAsync_SeveralJobsOfABatchRetried_WaitsForTheLastFinalOutcome()
    {
        var time = new FakeTimeProvider();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                recorder.Record(batch);
                for (int i = 0; i < batch.Count; i++)
                {
                    int neededAttempts = batch[i] == 1 ? 2 : 3;
                    if (batch.GetAttempt(i) < neededAttempts)
                    {
                        batch.Retry(i);
                    }
                    else
                    {
                        batch.SetResult(i, batch[i]);
                    }
                }

                return default;
            },
            new BatcherOptions<int, int>
            {
                MaxBatchSize = 2,
                MaxBatchDelay = TimeSpan.Zero,
                TimeProvider = time,
                Retry = new RetryPolicy { MaxAttempts = 3, Delay = TimeSpan.FromSeconds(5) },
            });
        batcher.Start();
        Task<int> one = batcher.AddAndWaitAsync(1).AsTask();
        Task<int> two = batcher.AddAndWaitAsync(2).AsTask();
        await recorder.WhenBatchesAsync(1);
        Task flush = batcher.FlushAsync();

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, await one.Guarded());
        await batcher.IdleAsync();
        Assert.False(flush.IsCompleted, "The flush completed while job 2, retried from the same batch, had no outcome yet.");

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(2, await two.Guarded());
        await flush.Guarded();
        // Job 1 was handled twice, job 2 three times (how the retries share batches depends on timing).
        Assert.Equal([1, 1, 2, 2, 2], recorder.AllJobs.Order());
    }
}
