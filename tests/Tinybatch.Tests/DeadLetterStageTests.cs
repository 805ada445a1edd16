using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>
/// A dead letter says where its job was when it ended (<see cref="DeadLetter{TJob}.Stage"/>) and how many handler calls
/// saw it (<see cref="DeadLetter{TJob}.Attempts"/>): whoever re-sends dead letters can tell "sent and maybe stored"
/// (Attempts of 1 or more) from "never sent" (0).
/// </summary>
public class DeadLetterStageTests
{
    private static (BatcherOptions<int, int> Options, List<DeadLetter<int>> Letters) Options(TimeProvider time, RetryPolicy? retry = null)
    {
        var letters = new List<DeadLetter<int>>();
        var options = new BatcherOptions<int, int>
        {
            MaxBatchSize = 2,
            MaxBatchDelay = TimeSpan.Zero,
            TimeProvider = time,
            Retry = retry,
            OnDeadLetter = d =>
            {
                lock (letters)
                {
                    letters.Add(d);
                }
            },
        };
        return (options, letters);
    }

    /// <summary>
    /// One stop deadline catches a job in each place: job 0 back in the queue after a failed attempt, job 1 waiting for
    /// its retry, job 2 inside a handler call that has not returned, job 3 queued and never sent.
    /// </summary>
    [Fact]
    public async Task StopAsync_DeadlineCatchesJobsEverywhere_EachDeadLetterSaysWhereItWasAndWhetherItWasSent()
    {
        var time = new FakeTimeProvider();
        var gate = new HandlerGate();
        var (options, letters) = Options(time, new DelayFromReason { MaxAttempts = 3 });
        var batcher = new Batcher<int, int>(
            async (batch, ct) =>
            {
                if (batch[0] == 0)
                {
                    // The first call: job 0 retries in 5 s, job 1 in 60 s.
                    batch.Retry(0, new TimeoutException("5"));
                    batch.Retry(1, new TimeoutException("60"));
                    return;
                }

                await gate.PassAsync();
                batch.SetResults([.. batch]);
            },
            options);
        batcher.TryAdd(0);
        batcher.TryAdd(1);
        batcher.Start();
        await batcher.IdleAsync();
        batcher.TryAdd(2);
        await gate.WhenEnteredAsync(1);
        batcher.TryAdd(3);
        time.Advance(TimeSpan.FromSeconds(5));

        using var deadline = new CancellationTokenSource();
        Task stop = batcher.StopAsync(deadline.Token);
        await deadline.CancelAsync();
        await stop.Guarded();
        await WaitUntilAsync(() => LetterCount(letters) == 4);
        gate.Open();

        var byJob = letters.OrderBy(d => d.Job).Select(d => (d.Job, d.Reason, d.Stage, d.Attempts)).ToArray();
        Assert.Equal(
            [
                (0, DeadLetterReason.Stopped, JobStage.Queued, 1),
                (1, DeadLetterReason.Stopped, JobStage.WaitingForRetry, 1),
                (2, DeadLetterReason.Stopped, JobStage.InHandler, 1),
                (3, DeadLetterReason.Stopped, JobStage.Queued, 0),
            ],
            byJob);
        Assert.All(letters, d => Assert.IsType<BatcherStoppedException>(d.Exception));
    }

    [Fact]
    public async Task HandlerTimeout_CallStillRunning_DeadLetterInHandlerWithOneAttempt()
    {
        var time = new FakeTimeProvider();
        var gate = new HandlerGate();
        var (options, letters) = Options(time);
        options.HandlerTimeout = TimeSpan.FromSeconds(10);
        await using var batcher = new Batcher<int, int>(
            async (batch, ct) =>
            {
                await gate.PassAsync();
                batch.SetResults([.. batch]);
            },
            options);
        batcher.Start();

        Task<int> awaited = batcher.AddAndWaitAsync(7).AsTask();
        await gate.WhenEnteredAsync(1);
        time.Advance(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<TimeoutException>(() => awaited.Guarded());
        await WaitUntilAsync(() => LetterCount(letters) == 1);
        gate.Open();

        DeadLetter<int> letter = Assert.Single(letters);
        Assert.Equal((7, DeadLetterReason.TimedOut, JobStage.InHandler, 1), (letter.Job, letter.Reason, letter.Stage, letter.Attempts));
    }

    /// <summary>Outcomes a call reported: a job failed on its first call, and one whose three calls all asked for a retry.</summary>
    [Fact]
    public async Task Handler_FailsOrExhaustsAJob_DeadLetterCompletedWithTheCallsThatSawIt()
    {
        var (options, letters) = Options(new FakeTimeProvider(), new RetryPolicy { MaxAttempts = 3 });
        options.MaxBatchSize = 1;
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                if (batch[0] == 1)
                {
                    batch.Fail(0, new InvalidOperationException("invalid record"));
                }
                else
                {
                    batch.Retry(0, new TimeoutException("throttled"));
                }

                return default;
            },
            options);
        batcher.Start();

        batcher.TryAdd(1);
        batcher.TryAdd(2);
        await batcher.FlushAsync().Guarded();

        Assert.Equal(
            [(1, DeadLetterReason.Failed, JobStage.Completed, 1), (2, DeadLetterReason.RetriesExhausted, JobStage.Completed, 3)],
            letters.OrderBy(d => d.Job).Select(d => (d.Job, d.Reason, d.Stage, d.Attempts)));
    }

    /// <summary>Refused at the door (never accepted) versus evicted from the queue (accepted, never sent): neither was sent.</summary>
    [Theory]
    [InlineData(OverflowPolicy.Reject, DeadLetterReason.Rejected, JobStage.NotAccepted, 2)]
    [InlineData(OverflowPolicy.DropWrite, DeadLetterReason.Dropped, JobStage.NotAccepted, 2)]
    [InlineData(OverflowPolicy.DropOldest, DeadLetterReason.Dropped, JobStage.Queued, 0)]
    public async Task Add_BufferFull_DeadLetterOfTheRefusedOrEvictedJobWasNeverSent(OverflowPolicy policy, DeadLetterReason reason, JobStage stage, int job)
    {
        var (options, letters) = Options(new FakeTimeProvider());
        options.Capacity = 2;
        options.OverflowPolicy = policy;
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, options);

        batcher.TryAdd(0);
        batcher.TryAdd(1);
        await Record.ExceptionAsync(() => batcher.AddAsync(2).AsTask());
        await WaitUntilAsync(() => LetterCount(letters) == 1);

        DeadLetter<int> letter = Assert.Single(letters);
        Assert.Equal((job, reason, stage, 0), (letter.Job, letter.Reason, letter.Stage, letter.Attempts));
    }

    private static int LetterCount(List<DeadLetter<int>> letters)
    {
        lock (letters)
        {
            return letters.Count;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var guard = new CancellationTokenSource(Guard.Timeout);
        while (!condition())
        {
            await Task.Delay(1, guard.Token);
        }
    }

    /// <summary>Waits as many seconds as the retry reason's message says.</summary>
    private sealed class DelayFromReason : RetryPolicy
    {
        public override TimeSpan GetDelay(int nextAttempt, Exception? reason) => TimeSpan.FromSeconds(int.Parse(reason!.Message, System.Globalization.CultureInfo.InvariantCulture));
    }
}
