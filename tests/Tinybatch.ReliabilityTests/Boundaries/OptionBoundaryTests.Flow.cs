using Microsoft.Extensions.Time.Testing;
using Tinybatch.ReliabilityTests.Support;
using static Tinybatch.ReliabilityTests.Boundaries.BoundaryValues;

namespace Tinybatch.ReliabilityTests.Boundaries;

/// <summary>The one-job flow every working value goes through, whatever built the batcher.</summary>
public sealed partial class OptionBoundaryTests
{
    /// <summary>What the flow drives: one batcher (or loader, or partitioned batcher) under test.</summary>
    private sealed class Subject
    {
        /// <summary>Adds a job; the task completes with its outcome (faults with the exception that failed it).</summary>
        public required Func<int, Task> Add { get; init; }

        public required Func<Task> Flush { get; init; }

        public required Func<CancellationToken, Task> Stop { get; init; }

        /// <summary>Completes when the dispatch loop sleeps with no batch in flight (the internal test hook).</summary>
        public required Func<Task> Idle { get; init; }

        public required Func<BatcherCounters> Counters { get; init; }

        public required Func<bool> IsStopped { get; init; }
    }

    /// <summary>The handler of every flow: counts its calls and, for a retry case, asks to retry each job's first attempt.</summary>
    private sealed class CountingHandler(bool retryFirstAttempt)
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        /// <summary>Counts a call of a fetch that is not a batch handler (the loader's).</summary>
        public void Called() => Interlocked.Increment(ref _calls);

        public ValueTask HandleAsync<TJob>(Batch<TJob> batch)
        {
            Interlocked.Increment(ref _calls);
            for (int i = 0; i < batch.Count; i++)
            {
                if (retryFirstAttempt && batch.GetAttempt(i) == 1)
                {
                    batch.Retry(i);
                }
                else if (batch is Batch<int, int> results)
                {
                    results.SetResult(i, results[i] * 10);
                }
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Adds one job and checks it goes out exactly when its delay says (not before; at the delay on the fake clock; at a
    /// flush when the delay is infinite or beyond what the clock can reach), that a retry waits exactly its delay (a stop
    /// deadline cuts an unreachable one short), then stops and checks the counters add up.
    /// </summary>
    private static async Task ProcessOneJobAsync(Subject subject, CountingHandler handler, FakeTimeProvider time, OptionCase c, int mark)
    {
        TimeSpan delay = c.Delay ?? TimeSpan.Zero;
        Task outcome = subject.Add(7);
        if (delay != TimeSpan.Zero)
        {
            await IdleAsync(subject, outcome, mark, "the batcher after the add");
            Assert.True(handler.Calls == 0, $"the job went out before its MaxBatchDelay ({c.Label})");
            if (Advanceable(delay))
            {
                time.Advance(delay - TimeSpan.FromTicks(1));
                await IdleAsync(subject, outcome, mark, "the batcher one tick before the delay");
                Assert.True(handler.Calls == 0, $"the job went out one tick before its MaxBatchDelay ({c.Label})");
                time.Advance(TimeSpan.FromTicks(1));
            }
            else
            {
                // Infinite, or beyond what a clock can reach: the batch goes out at a flush.
                _ = subject.Flush();
            }
        }

        if (c.RetryDelay is not { } retryDelay)
        {
            await outcome.Within(mark, "the job's outcome");
        }
        else
        {
            await Contained.Until(() => handler.Calls >= 1 || outcome.IsFaulted, mark, "the job's first attempt");
            if (retryDelay <= TimeSpan.Zero)
            {
                await outcome.Within(mark, "the job's immediate retry");
            }
            else
            {
                await IdleAsync(subject, outcome, mark, "the batcher with the job waiting for its retry");
                Assert.True(handler.Calls == 1, $"the retry came before its delay ({c.Label})");
                if (Advanceable(retryDelay))
                {
                    time.Advance(retryDelay - TimeSpan.FromTicks(1));
                    await IdleAsync(subject, outcome, mark, "the batcher one tick before the retry delay");
                    Assert.True(handler.Calls == 1, $"the retry came one tick before its delay ({c.Label})");
                    time.Advance(TimeSpan.FromTicks(1));
                    await outcome.Within(mark, "the job's retry");
                }
                else
                {
                    // The job waits out a delay no clock reaches: a stop deadline cuts it short.
                    using var deadline = new CancellationTokenSource();
                    await deadline.CancelAsync();
                    await subject.Stop(deadline.Token).Within(mark, "a stop whose deadline has passed, the job waiting for its retry");
                    await Assert.ThrowsAsync<BatcherStoppedException>(() => outcome.Within(mark, "the job cut short by the deadline"));
                }
            }
        }

        int calls = c.RetryDelay is not { } r ? 1 : r <= TimeSpan.Zero || Advanceable(r) ? 2 : 1;
        Assert.True(calls == handler.Calls, $"the handler was called {handler.Calls} times, expected {calls}");
        await subject.Stop(CancellationToken.None).Within(mark, "the stop");
        Assert.True(subject.IsStopped(), "the batcher is not stopped after its stop completed");
        BatcherCounters counters = subject.Counters();
        Assert.True(counters.Accepted == counters.Succeeded + counters.Failed + counters.Canceled + counters.Dropped,
            $"the counters do not add up: {counters}");
        Assert.True(counters.Accepted == 1, $"one job was added: {counters}");
    }

    private static Task IdleAsync(Subject subject, Task outcome, int mark, string what) =>
        subject.Idle().IdleUnlessFailed(outcome, mark, what);
}
