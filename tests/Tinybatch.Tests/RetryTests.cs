using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>RetryPolicy: attempts, later batches, exhaustion, failed batches and delays on the fake clock.</summary>
public class RetryTests
{
    private static (BatcherOptions<int, int> Options, List<DeadLetter<int>> DeadLetters) Options(RetryPolicy? retry, FakeTimeProvider? time = null)
    {
        var deadLetters = new List<DeadLetter<int>>();
        var options = new BatcherOptions<int, int>
        {
            MaxBatchSize = 10,
            MaxBatchDelay = TimeSpan.Zero,
            TimeProvider = time ?? new FakeTimeProvider(),
            Retry = retry,
            OnDeadLetter = d =>
            {
                lock (deadLetters)
                {
                    deadLetters.Add(d);
                }
            },
        };
        return (options, deadLetters);
    }

    [Fact]
    public async Task Retry_AlwaysRetried_ExhaustsMaxAttemptsInLaterBatchesAndDeadLetters()
    {
        var (options, deadLetters) = Options(new RetryPolicy { MaxAttempts = 4 });
        var attempts = new List<(long BatchId, int Attempt)>();
        var reasons = new List<Exception>();
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                var reason = new TimeoutException($"attempt {batch.GetAttempt(0)}");
                lock (attempts)
                {
                    attempts.Add((batch.Id, batch.GetAttempt(0)));
                    reasons.Add(reason);
                }

                batch.Retry(0, reason);
                return default;
            },
            options);
        batcher.Start();

        var error = await Assert.ThrowsAsync<TimeoutException>(() => batcher.AddAndWaitAsync(1).Guarded());
        await batcher.IdleAsync();

        Assert.Equal([1, 2, 3, 4], attempts.Select(a => a.Attempt));
        Assert.Equal([1L, 2L, 3L, 4L], attempts.Select(a => a.BatchId));
        Assert.Same(reasons[^1], error);
        DeadLetter<int> dead = Assert.Single(deadLetters);
        Assert.Equal(DeadLetterReason.RetriesExhausted, dead.Reason);
        Assert.Equal(4, dead.Attempts);
        Assert.Same(error, dead.Exception);
        Assert.Equal(3, batcher.Counters.Retried);
        Assert.Equal(1, batcher.Counters.Failed);
    }

    [Fact]
    public async Task Retry_DefaultPolicy_AllowsThreeAttempts()
    {
        var (options, _) = Options(retry: null);
        int calls = 0;
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                Interlocked.Increment(ref calls);
                batch.Retry(0);
                return default;
            },
            options);
        batcher.Start();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.AddAndWaitAsync(1).Guarded());

        Assert.Equal(3, Volatile.Read(ref calls));
        Assert.Contains("retried", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retry_SucceedsOnALaterAttempt_AwaiterGetsTheResult()
    {
        var (options, deadLetters) = Options(new RetryPolicy { MaxAttempts = 3 });
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                if (batch.GetAttempt(0) < 3)
                {
                    batch.Retry(0);
                }
                else
                {
                    batch.SetResult(0, 42);
                }

                return default;
            },
            options);
        batcher.Start();

        Assert.Equal(42, await batcher.AddAndWaitAsync(1).Guarded());
        Assert.Empty(deadLetters);
        Assert.Equal(2, batcher.Counters.Retried);
        Assert.Equal(1, batcher.Counters.Succeeded);
    }

    [Fact]
    public async Task RetryFailedBatches_HandlerThrowsOnce_JobsRetriedAndSucceed()
    {
        var (options, _) = Options(new RetryPolicy { MaxAttempts = 2, RetryFailedBatches = true });
        int calls = 0;
        await using var batcher = new Batcher<int, int>(
            (jobs, ct) => Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("transient") : jobs,
            options);
        batcher.TryAdd(1);
        Task<int> awaited = batcher.AddAndWaitAsync(2).AsTask();
        batcher.Start();

        Assert.Equal(2, await awaited.Guarded());
        await batcher.IdleAsync();
        Assert.Equal(2, batcher.Counters.Retried);
        Assert.Equal(2, batcher.Counters.Succeeded);
    }

    [Fact]
    public async Task RetryFailedBatches_HandlerAlwaysThrows_AwaiterGetsTheLastExceptionAndDeadLetterRetriesExhausted()
    {
        var (options, deadLetters) = Options(new RetryPolicy { MaxAttempts = 2, RetryFailedBatches = true });
        var thrown = new List<Exception>();
        await using var batcher = new Batcher<int, int>(
            Handlers.Sync<int, int>((jobs, ct) =>
            {
                var ex = new InvalidOperationException($"failure {thrown.Count + 1}");
                thrown.Add(ex);
                throw ex;
            }),
            options);
        batcher.Start();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.AddAndWaitAsync(1).Guarded());
        await batcher.IdleAsync();

        Assert.Equal(2, thrown.Count);
        Assert.Same(thrown[1], error);
        DeadLetter<int> dead = Assert.Single(deadLetters);
        Assert.Equal(DeadLetterReason.RetriesExhausted, dead.Reason);
    }

    [Fact]
    public async Task RetryFailedBatches_Off_HandlerExceptionFailsAtOnce()
    {
        var (options, deadLetters) = Options(new RetryPolicy { MaxAttempts = 5 });
        int calls = 0;
        await using var batcher = new Batcher<int, int>(
            Handlers.Sync<int, int>((jobs, ct) =>
            {
                Interlocked.Increment(ref calls);
                throw new InvalidOperationException("boom");
            }),
            options);
        batcher.Start();

        await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.AddAndWaitAsync(1).Guarded());
        await batcher.IdleAsync();

        Assert.Equal(1, calls);
        Assert.Equal(DeadLetterReason.Failed, Assert.Single(deadLetters).Reason);
    }

    [Fact]
    public async Task Retry_WithDelay_JobReentersOnlyWhenTheFakeClockReachesIt()
    {
        var time = new FakeTimeProvider();
        var (options, _) = Options(new RetryPolicy { MaxAttempts = 2, Delay = TimeSpan.FromSeconds(5) }, time);
        var handler = new RetryFirstCall(9);
        await using var batcher = new Batcher<int, int>(
            handler.Handle,
            options);
        batcher.Start();
        Task<int> awaited = batcher.AddAndWaitAsync(1).AsTask();

        await batcher.IdleAsync();
        Assert.Equal(1, handler.Calls);
        Assert.Equal(1, batcher.PendingCount);

        time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        await batcher.IdleAsync();
        Assert.Equal(1, handler.Calls);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(9, await awaited.Guarded());
        Assert.Equal(2, handler.Calls);
    }

    [Fact]
    public async Task Retry_WaitingOnDelay_StopWaitsForIt()
    {
        var time = new FakeTimeProvider();
        var (options, _) = Options(new RetryPolicy { MaxAttempts = 2, Delay = TimeSpan.FromSeconds(5) }, time);
        var handler = new RetryFirstCall(9);
        var batcher = new Batcher<int, int>(
            handler.Handle,
            options);
        batcher.Start();
        Task<int> awaited = batcher.AddAndWaitAsync(1).AsTask();
        await batcher.IdleAsync();

        Task stop = batcher.StopAsync();
        await batcher.IdleAsync();
        Assert.False(stop.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(5));
        await stop.Guarded();
        Assert.Equal(9, await awaited.Guarded());
    }

    [Fact]
    public async Task Retry_WaitingOnDelayWhenStopDeadlineFires_FailsWithBatcherStoppedAndIsNeverRetried()
    {
        var time = new CountingTimeProvider();
        var (options, deadLetters) = Options(new RetryPolicy { MaxAttempts = 2, Delay = TimeSpan.FromSeconds(5) }, time);
        int calls = 0;
        var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                Interlocked.Increment(ref calls);
                batch.Retry(0);
                return default;
            },
            options);
        batcher.Start();
        Task<int> awaited = batcher.AddAndWaitAsync(1).AsTask();
        await batcher.IdleAsync();

        using var deadline = new CancellationTokenSource();
        Task stop = batcher.StopAsync(deadline.Token);
        await batcher.IdleAsync();
        Assert.False(stop.IsCompleted);

        await deadline.CancelAsync();
        await stop.Guarded();
        await Assert.ThrowsAsync<BatcherStoppedException>(() => awaited.Guarded());
        DeadLetter<int> letter = Assert.Single(deadLetters);
        Assert.Equal((1, DeadLetterReason.Stopped, 1), (letter.Job, letter.Reason, letter.Attempts));

        // The retry's timer was disposed with the job (so the clock no longer holds the job), and reaching its due
        // time runs nothing.
        Assert.Equal(0, time.TimersAlive);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, Volatile.Read(ref calls));
        BatcherCounters c = batcher.Counters;
        Assert.Equal((1, 0, 1), (c.Accepted, c.Succeeded, c.Failed));
    }
    /// <summary>
    /// RetryFailedBatches retries the jobs of a batch whose handler threw. A handler that returns normally but forgets
    /// a job is a different fault: that job fails at once, saying so, and is not retried.
    /// </summary>
    [Fact]
    public async Task RetryFailedBatches_HandlerReturnsWithoutAnOutcome_JobFailsAtOnceNotRetried()
    {
        var (options, deadLetters) = Options(new RetryPolicy { MaxAttempts = 3, RetryFailedBatches = true });
        int calls = 0;
        await using var batcher = new Batcher<int, int>(
            (Batch<int, int> batch, CancellationToken ct) =>
            {
                Interlocked.Increment(ref calls);
                return ValueTask.CompletedTask;
            },
            options);
        batcher.Start();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.AddAndWaitAsync(1).Guarded());
        await batcher.IdleAsync();

        Assert.Contains("without an outcome", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, calls);
        Assert.Equal(DeadLetterReason.Failed, Assert.Single(deadLetters).Reason);
    }

    /// <summary>A policy that records the attempt numbers it is asked about and allows any attempt within the budget.</summary>
    private sealed class RecordingPolicy : RetryPolicy
    {
        public List<int> Asked { get; } = [];

        public bool Allow { get; init; } = true;

        public override bool ShouldRetry(int nextAttempt, Exception? reason)
        {
            lock (Asked)
            {
                Asked.Add(nextAttempt);
            }

            return Allow && nextAttempt <= MaxAttempts;
        }
    }

    [Fact]
    public async Task RetryPolicy_IsAskedAboutEachNextAttempt_AndTheLastFailureIsExhaustedNotRefused()
    {
        var policy = new RecordingPolicy { MaxAttempts = 3 };
        var (options, deadLetters) = Options(policy);
        await using var batcher = new Batcher<int, int>(
            Handlers.PerJob<int, int>((batch, ct) =>
            {
                batch.Retry(0, new TimeoutException($"attempt {batch.GetAttempt(0)}"));
                return default;
            }),
            options);
        batcher.Start();

        await Assert.ThrowsAsync<TimeoutException>(() => batcher.AddAndWaitAsync(1).Guarded());
        await batcher.IdleAsync();

        // Asked before the second and the third attempt; after the third the budget is spent and it is not asked.
        Assert.Equal([2, 3], policy.Asked);
        DeadLetter<int> dead = Assert.Single(deadLetters);
        Assert.Equal(DeadLetterReason.RetriesExhausted, dead.Reason);
        Assert.Equal(3, dead.Attempts);
    }

    [Fact]
    public async Task Retry_WithoutAReasonAndRefusedByThePolicy_FailsSayingThePolicyRefused()
    {
        var policy = new RecordingPolicy { Allow = false };
        var (options, deadLetters) = Options(policy);
        await using var batcher = new Batcher<int, int>(
            Handlers.PerJob<int, int>((batch, ct) =>
            {
                batch.Retry(0);
                return default;
            }),
            options);
        batcher.Start();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.AddAndWaitAsync(1).Guarded());
        await batcher.IdleAsync();

        Assert.Contains("retry policy", error.Message, StringComparison.Ordinal);
        Assert.Contains("refused", error.Message, StringComparison.Ordinal);
        Assert.Equal([2], policy.Asked);
        DeadLetter<int> dead = Assert.Single(deadLetters);
        Assert.Equal(DeadLetterReason.Failed, dead.Reason);
        Assert.Same(error, dead.Exception);
    }
}
