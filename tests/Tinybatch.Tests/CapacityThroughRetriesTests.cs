using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>
/// A job keeps its place in the buffer from acceptance to its final outcome, retry waits included: when the sink fails
/// every call, the buffer fills with jobs waiting for a retry and each overflow policy applies, instead of the buffer
/// growing with the length of the outage.
/// </summary>
public class CapacityThroughRetriesTests
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private static BatcherOptions<int, int> Options(FakeTimeProvider time, int capacity, OverflowPolicy policy, List<DeadLetter<int>> deadLetters) => new()
    {
        MaxBatchSize = 100,
        MaxBatchDelay = TimeSpan.Zero,
        Capacity = capacity,
        OverflowPolicy = policy,
        TimeProvider = time,
        Retry = new RetryPolicy { MaxAttempts = 10, Delay = RetryDelay, RetryFailedBatches = true },
        OnDeadLetter = d =>
        {
            lock (deadLetters)
            {
                deadLetters.Add(d);
            }
        },
    };

    /// <summary>
    /// The reported case: Capacity 1,000, a handler that always throws, ten attempts a second apart, 20,000 adds. The
    /// adds wait, the buffer never holds more than 1,000 unfinished jobs, and every job ends retries-exhausted after
    /// ten calls saw it. The figures are read whenever the batcher is settled: after each retry delay, every accepted
    /// job is waiting for its next attempt or has its outcome.
    /// </summary>
    [Fact]
    public async Task AddAsync_HandlerAlwaysThrowsWithRetries_ProducersWaitAndPendingNeverExceedsCapacity()
    {
        const int Capacity = 1_000;
        const int Producers = 4;
        const int PerProducer = 5_000;
        var time = new FakeTimeProvider();
        var deadLetters = new List<DeadLetter<int>>();
        await using var batcher = new Batcher<int, int>(
            Handlers.Throwing<int, int>(new TimeoutException("the sink is down")),
            Options(time, Capacity, OverflowPolicy.Wait, deadLetters));
        batcher.Start();

        Task[] producers = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            for (int i = 0; i < PerProducer; i++)
            {
                await batcher.AddAsync((p * PerProducer) + i);
            }
        })).ToArray();

        // Before any retry is due, the buffer is full of jobs waiting for their second attempt and every producer waits.
        await WaitUntilAsync(() => batcher.SpaceWaiterCount == Producers);
        await batcher.IdleAsync();
        Assert.Equal((1_000L, 1_000L, 0L, 1_000L), (batcher.Counters.Accepted, batcher.PendingCount, batcher.Counters.InFlight, batcher.Counters.Retried));
        Assert.All(producers, p => Assert.False(p.IsCompleted));
        Assert.False(batcher.TryAdd(-1));

        long peakPending = 0;
        long peakUnfinished = 0;
        int steps = 0;
        while (batcher.Counters.Completed < Producers * PerProducer)
        {
            Assert.True(++steps <= 400, $"not drained after {steps} retry delays: {batcher.Counters}");
            time.Advance(RetryDelay);
            await WaitUntilAsync(() => batcher.SpaceWaiterCount == producers.Count(p => !p.IsCompleted));
            await batcher.IdleAsync();
            BatcherCounters counters = batcher.Counters;
            peakPending = Math.Max(peakPending, counters.Pending);
            peakUnfinished = Math.Max(peakUnfinished, counters.Accepted - counters.Completed);
            Assert.True(counters.Pending <= Capacity, $"step {steps}: {counters}");
        }

        await Task.WhenAll(producers).Guarded();
        Assert.Equal((1_000L, 1_000L), (peakPending, peakUnfinished));
        Assert.Equal(Producers * PerProducer, deadLetters.Count);
        Assert.All(deadLetters, d => Assert.Equal((DeadLetterReason.RetriesExhausted, 10, JobStage.Completed), (d.Reason, d.Attempts, d.Stage)));
        Assert.Equal(Producers * PerProducer * 9L, batcher.Counters.Retried);
        Assert.Equal(1L, batcher.Counters.Rejected);
    }

    [Fact]
    public async Task PendingCount_JobsWaitingForARetry_CountedUntilTheirFinalOutcome()
    {
        var time = new FakeTimeProvider();
        var deadLetters = new List<DeadLetter<int>>();
        int calls = 0;
        await using var batcher = new Batcher<int, int>(
            Handlers.PerJob<int, int>((batch, ct) =>
            {
                // Fails the first call, succeeds after.
                if (Interlocked.Increment(ref calls) == 1)
                {
                    throw new TimeoutException("down");
                }

                batch.SetResults([.. batch]);
                return default;
            }),
            Options(time, capacity: 100, OverflowPolicy.Wait, deadLetters));
        batcher.Start();

        for (int i = 0; i < 30; i++)
        {
            Assert.True(batcher.TryAdd(i));
        }

        await batcher.IdleAsync();
        BatcherCounters waiting = batcher.Counters;
        Assert.Equal((30L, 30L, 0L, 0L, 30L), (waiting.Accepted, waiting.Pending, waiting.InFlight, waiting.Completed, waiting.Retried));
        Assert.Equal(30, batcher.PendingCount);

        time.Advance(RetryDelay);
        await batcher.IdleAsync();
        BatcherCounters done = batcher.Counters;
        Assert.Equal((0L, 0L, 30L), (done.Pending, done.InFlight + done.Failed, done.Succeeded));
        Assert.Empty(deadLetters);
    }

    /// <summary>Every place is held by a job waiting for a retry: the next add meets the overflow policy, whichever it is.</summary>
    [Theory]
    [InlineData(OverflowPolicy.Reject)]
    [InlineData(OverflowPolicy.DropWrite)]
    [InlineData(OverflowPolicy.DropOldest)]
    public async Task Add_EveryPlaceHeldByRetryWaits_NewJobMeetsTheOverflowPolicy(OverflowPolicy policy)
    {
        var time = new FakeTimeProvider();
        var deadLetters = new List<DeadLetter<int>>();

        // Disposed without draining: the jobs wait for retries the fake clock never brings.
        using var batcher = new Batcher<int, int>(
            Handlers.Throwing<int, int>(new TimeoutException("down")),
            Options(time, capacity: 100, policy, deadLetters));
        batcher.Start();
        for (int i = 0; i < 100; i++)
        {
            Assert.True(batcher.TryAdd(i));
        }

        await batcher.IdleAsync();
        Assert.Equal(100, batcher.PendingCount);

        // Nothing is queued to evict (every job is between attempts), so even DropOldest refuses the new job.
        Assert.False(batcher.TryAdd(100));
        Exception? refused = await Record.ExceptionAsync(() => batcher.AddAndWaitAsync(101).AsTask());
        await batcher.IdleAsync();

        Assert.IsType(policy == OverflowPolicy.Reject ? typeof(BatcherFullException) : typeof(JobDroppedException), refused);
        Assert.Equal(100, batcher.PendingCount);
        Assert.Equal((100L, 2L, 0L), (batcher.Counters.Accepted, batcher.Counters.Rejected, batcher.Counters.Dropped));

        // A refusal's dead letter is delivered off the producer's thread.
        await WaitUntilAsync(() => batcher.CallbacksPending == 0);
        DeadLetter<int> letter;
        lock (deadLetters)
        {
            letter = Assert.Single(deadLetters);
        }

        Assert.Equal((101, 0, JobStage.NotAccepted), (letter.Job, letter.Attempts, letter.Stage));
    }

    /// <summary>
    /// Under DropOldest, a job back in the queue after a failed attempt is queued again, so it can be evicted; its dead
    /// letter says a call saw it once (Attempts 1).
    /// </summary>
    [Fact]
    public async Task DropOldest_RetriedJobBackInTheQueue_EvictedWithItsAttempts()
    {
        var time = new FakeTimeProvider();
        var deadLetters = new List<DeadLetter<int>>();
        var gate = new HandlerGate();
        int calls = 0;
        BatcherOptions<int, int> options = Options(time, capacity: 10, OverflowPolicy.DropOldest, deadLetters);
        options.MaxBatchSize = 10;
        await using var batcher = new Batcher<int, int>(
            async (batch, ct) =>
            {
                // The first call fails; the second holds the only slot, so retried jobs stay queued behind it.
                if (Interlocked.Increment(ref calls) == 1)
                {
                    throw new TimeoutException("down");
                }

                await gate.PassAsync();
                batch.SetResults([.. batch]);
            },
            options);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(batcher.TryAdd(i));
        }

        batcher.Start();
        await batcher.IdleAsync();
        Assert.True(batcher.TryAdd(5));
        await gate.WhenEnteredAsync(1);
        time.Advance(RetryDelay);
        for (int i = 6; i < 10; i++)
        {
            Assert.True(batcher.TryAdd(i));
        }

        // Job 5 is in the handler; 0-4 are back in the queue after their retry delay, then 6-9.
        Assert.Equal((9L, 1L), (batcher.PendingCount, batcher.Counters.InFlight));
        Assert.True(batcher.TryAdd(10));
        gate.Open();
        await batcher.FlushAsync().Guarded();

        // Dead letters decided on a producer are delivered off its thread; a stop waits for them.
        await batcher.StopAsync().Guarded();
        DeadLetter<int> evicted = Assert.Single(deadLetters);
        Assert.Equal((0, DeadLetterReason.Dropped, 1, JobStage.Queued), (evicted.Job, evicted.Reason, evicted.Attempts, evicted.Stage));
        Assert.Equal((11L, 10L, 1L), (batcher.Counters.Accepted, batcher.Counters.Succeeded, batcher.Counters.Dropped));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var guard = new CancellationTokenSource(Guard.Timeout);
        while (!condition())
        {
            await Task.Delay(1, guard.Token);
        }
    }
}
