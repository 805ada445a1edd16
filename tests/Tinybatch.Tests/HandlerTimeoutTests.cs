using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>HandlerTimeout: a handler that runs too long fails its jobs and gives its slot back.</summary>
public class HandlerTimeoutTests
{
    /// <summary>A 10 s handler timeout on <paramref name="time"/>; dead letters go to <paramref name="deadLetters"/> if given.</summary>
    private static BatcherOptions<int, int> TimeoutOptions(
        FakeTimeProvider time, int maxBatchSize, TimeSpan maxBatchDelay, List<DeadLetter<int>>? deadLetters = null)
    {
        var options = new BatcherOptions<int, int>
        {
            MaxBatchSize = maxBatchSize,
            MaxBatchDelay = maxBatchDelay,
            HandlerTimeout = TimeSpan.FromSeconds(10),
            TimeProvider = time,
        };
        if (deadLetters is not null)
        {
            options.OnDeadLetter = d =>
            {
                lock (deadLetters)
                {
                    deadLetters.Add(d);
                }
            };
        }

        return options;
    }

    [Fact]
    public async Task HandlerTimeout_Expires_JobsFailWithTimeoutNamingTheBatchAndTheSlotIsFreed()
    {
        var time = new FakeTimeProvider();
        var gate = new HandlerGate();
        var deadLetters = new List<DeadLetter<int>>();
        CancellationToken stuckToken = default;
        var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                if (jobs[0] == 1)
                {
                    stuckToken = ct;

                    // Ignores its token: the timeout must not depend on the handler's cooperation.
                    await gate.PassAsync();
                }

                return jobs;
            },
            TimeoutOptions(time, maxBatchSize: 1, TimeSpan.Zero, deadLetters));
        batcher.Start();
        Task<int> stuck = batcher.AddAndWaitAsync(1).AsTask();
        await gate.WhenEnteredAsync(1);
        Task<int> next = batcher.AddAndWaitAsync(2).AsTask();

        time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(1));
        Assert.False(stuck.IsCompleted);
        Assert.False(next.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(1));
        var error = await Assert.ThrowsAsync<TimeoutException>(() => stuck.Guarded());
        Assert.Contains("batch 1", error.Message, StringComparison.Ordinal);
        Assert.True(stuckToken.IsCancellationRequested, "the timed-out handler's token should be cancelled");

        // The slot came back while the stuck handler still runs: the next batch is processed.
        Assert.Equal(2, await next.Guarded());
        Assert.Equal(DeadLetterReason.TimedOut, Assert.Single(deadLetters).Reason);

        gate.Open();
        await batcher.StopAsync().Guarded();
        Assert.Equal(1, batcher.Counters.Failed);
        Assert.Equal(1, batcher.Counters.Succeeded);
    }

    [Fact]
    public async Task HandlerTimeout_OutcomesSetBeforeTheHandlerHung_GiveWayToTheTimeout()
    {
        var time = new FakeTimeProvider();
        var gate = new HandlerGate();
        var deadLetters = new List<DeadLetter<int>>();
        await using var batcher = new Batcher<int, int>(
            Handlers.PerJob<int, int>(async (batch, ct) =>
            {
                batch.SetResult(0, 10);
                batch.Fail(1, new FormatException("set before the hang"));
                await gate.PassAsync();
            }),
            TimeoutOptions(time, maxBatchSize: 2, Timeout.InfiniteTimeSpan, deadLetters));
        batcher.Start();
        Task<int> first = batcher.AddAndWaitAsync(1).AsTask();
        Task<int> second = batcher.AddAndWaitAsync(2).AsTask();
        await gate.WhenEnteredAsync(1);

        time.Advance(TimeSpan.FromSeconds(10));

        // The batch's outcome is the timeout, for every job: what the handler had set is not half-applied.
        await Assert.ThrowsAsync<TimeoutException>(() => first.Guarded());
        await Assert.ThrowsAsync<TimeoutException>(() => second.Guarded());
        gate.Open();
        await batcher.StopAsync().Guarded();
        Assert.Equal(2, batcher.Counters.Failed);
        Assert.Equal(0, batcher.Counters.Succeeded);
        Assert.All(deadLetters, d => Assert.Equal(DeadLetterReason.TimedOut, d.Reason));
        Assert.Equal([1, 2], deadLetters.Select(d => d.Job).Order());
    }

    [Fact]
    public async Task HandlerTimeout_AbandonedBatch_IsNotReusedWhileItsHandlerStillHoldsIt()
    {
        var time = new FakeTimeProvider();
        var gate = new HandlerGate();
        var seen = new List<Batch<int, int>>();
        await using var batcher = new Batcher<int, int>(
            Handlers.PerJob<int, int>(async (batch, ct) =>
            {
                lock (seen)
                {
                    seen.Add(batch);
                }

                if (batch[0] == 1)
                {
                    await gate.PassAsync();
                }

                batch.SetResult(0, batch[0]);
            }),
            TimeoutOptions(time, maxBatchSize: 1, TimeSpan.Zero));
        batcher.Start();
        Task<int> stuck = batcher.AddAndWaitAsync(1).AsTask();
        await gate.WhenEnteredAsync(1);
        time.Advance(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<TimeoutException>(() => stuck.Guarded());

        // A later batch gets a batch object of its own: the stuck handler still holds the first.
        Assert.Equal(2, await batcher.AddAndWaitAsync(2).Guarded());
        Assert.NotSame(seen[0], seen[1]);
        Assert.Equal(1, seen[0][0]);
        gate.Open();
        await batcher.StopAsync().Guarded();
    }
}
