using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>Per-job outcomes reported on the Batch: SetResult, SetException, Retry, and jobs left without one.</summary>
public class OutcomeTests
{
    private static BatcherOptions<int, int> SizeOnly(int size) =>
        new() { MaxBatchSize = size, MaxBatchDelay = Timeout.InfiniteTimeSpan, TimeProvider = new FakeTimeProvider() };

    [Fact]
    public async Task Batch_SetResultAndSetExceptionPerJob_EachAwaiterGetsItsOwnOutcome()
    {
        var bad = new ArgumentException("job 1 is bad");
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                batch.SetResult(0, 100);
                batch.Fail(1, bad);
                batch.SetResult(2, 300);
                return default;
            },
            SizeOnly(3));
        batcher.Start();

        Task<int> first = batcher.AddAndWaitAsync(0).AsTask();
        Task<int> second = batcher.AddAndWaitAsync(1).AsTask();
        Task<int> third = batcher.AddAndWaitAsync(2).AsTask();

        Assert.Equal(100, await first.Guarded());
        Assert.Same(bad, await Assert.ThrowsAsync<ArgumentException>(() => second.Guarded()));
        Assert.Equal(300, await third.Guarded());
        Assert.Equal(2, batcher.Counters.Succeeded);
        Assert.Equal(1, batcher.Counters.Failed);
    }

    [Fact]
    public async Task Batch_JobLeftWithoutOutcome_FailsWithMessageNamingJobAndBatch()
    {
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                batch.SetResult(0, 1);
                return default;
            },
            SizeOnly(2));
        batcher.Start();

        Task<int> answered = batcher.AddAndWaitAsync(0).AsTask();
        Task<int> forgotten = batcher.AddAndWaitAsync(1).AsTask();

        Assert.Equal(1, await answered.Guarded());
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => forgotten.Guarded());
        Assert.Contains("job 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("batch 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_SetResultTwice_Throws()
    {
        Exception? second = null;
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                batch.SetResult(0, 1);
                second = Record.Exception(() => batch.SetResult(0, 2));
                return default;
            },
            SizeOnly(1));
        batcher.Start();

        Assert.Equal(1, await batcher.AddAndWaitAsync(0).Guarded());
        var error = Assert.IsType<InvalidOperationException>(second);
        Assert.Contains("already has an outcome", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_OutcomeAfterAnotherOutcome_ThrowsForEveryKind()
    {
        var errors = new List<Exception?>();
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                batch.Fail(0, new InvalidOperationException("first"));
                errors.Add(Record.Exception(() => batch.SetResult(0, 1)));
                errors.Add(Record.Exception(() => batch.Fail(0, new InvalidOperationException("second"))));
                errors.Add(Record.Exception(() => batch.Retry(0)));
                return default;
            },
            SizeOnly(1));
        batcher.Start();

        await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.AddAndWaitAsync(0).Guarded());
        Assert.Equal(3, errors.Count);
        Assert.All(errors, e => Assert.IsType<InvalidOperationException>(e));
    }

    [Fact]
    public async Task Batch_RetryAJob_ItComesBackInALaterBatchWithAttemptTwo()
    {
        var seen = new List<(long BatchId, int Job, int Attempt)>();
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    lock (seen)
                    {
                        seen.Add((batch.Id, batch[i], batch.GetAttempt(i)));
                    }

                    if (batch[i] == 1 && batch.GetAttempt(i) == 1)
                    {
                        batch.Retry(i, new TimeoutException("try again"));
                    }
                    else
                    {
                        batch.SetResult(i, batch[i] * 10);
                    }
                }

                return default;
            },
            new BatcherOptions<int, int> { MaxBatchSize = 2, MaxBatchDelay = TimeSpan.Zero, TimeProvider = new FakeTimeProvider() });
        batcher.TryAdd(0);
        Task<int> retried = batcher.AddAndWaitAsync(1).AsTask();
        batcher.Start();

        Assert.Equal(10, await retried.Guarded());
        Assert.Equal([(1L, 0, 1), (1L, 1, 1), (2L, 1, 2)], seen);
        Assert.Equal(1, batcher.Counters.Retried);
    }

    [Fact]
    public async Task Batch_SetResultsAfterSomeOutcomes_KeepsTheEarlierOnes()
    {
        var bad = new InvalidOperationException("bad");
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                batch.Fail(0, bad);
                batch.SetResults([7, 8]);
                return default;
            },
            SizeOnly(2));
        batcher.Start();

        Task<int> first = batcher.AddAndWaitAsync(0).AsTask();
        Task<int> second = batcher.AddAndWaitAsync(1).AsTask();

        Assert.Same(bad, await Assert.ThrowsAsync<InvalidOperationException>(() => first.Guarded()));
        Assert.Equal(8, await second.Guarded());
    }
    /// <summary>
    /// A pooled batch's arrays are as long as MaxBatchSize; an index past <see cref="Batch{TJob, TResult}.Count"/> must
    /// still be refused, by every member that takes one, not read a previous batch's leftovers.
    /// </summary>
    [Fact]
    public async Task Batch_IndexAtOrPastCount_EveryIndexedMemberThrowsArgumentOutOfRange()
    {
        var refused = new List<string>();
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                foreach (int index in new[] { batch.Count, batch.Count + 1, -1 })
                {
                    Check(() => _ = batch[index], "indexer");
                    Check(() => batch.GetAttempt(index), "GetAttempt");
                    Check(() => batch.GetOutcome(index), "GetOutcome");
                    Check(() => batch.SetResult(index, 0), "SetResult");
                    Check(() => batch.Fail(index, new InvalidOperationException()), "Fail");
                    Check(() => batch.Retry(index), "Retry");
                }

                batch.SetResults([.. batch]);
                return default;
            },
            SizeOnly(4));
        batcher.TryAdd(1);
        batcher.TryAdd(2);
        await batcher.StopAsync().Guarded();

        Assert.Empty(refused);

        void Check(Action use, string member)
        {
            Exception? error = Record.Exception(use);
            if (error is not ArgumentOutOfRangeException { ParamName: "index" } || !error.Message.Contains("The batch has 2 jobs", StringComparison.Ordinal))
            {
                refused.Add($"{member}: {error?.GetType().Name ?? "no exception"} {error?.Message}");
            }
        }
    }

    [Fact]
    public async Task Batch_SetExceptionWithNull_ThrowsArgumentNullAndTheJobKeepsNoOutcome()
    {
        Exception? error = null;
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                error = Record.Exception(() => batch.Fail(0, null!));
                batch.SetResult(0, 7);
                return default;
            },
            SizeOnly(1));
        batcher.Start();

        Assert.Equal(7, await batcher.AddAndWaitAsync(0).Guarded());
        Assert.Equal("exception", Assert.IsType<ArgumentNullException>(error).ParamName);
    }

    /// <summary>
    /// Batches are pooled and reused. Once a batch is done, the pool must not keep its jobs, results or exceptions
    /// reachable: a stalled or idle batcher would otherwise pin the last payloads it saw.
    /// </summary>
    [Fact]
    public async Task Batch_Done_PooledBatchKeepsNoJobResultOrExceptionAlive()
    {
        await using var batcher = new Batcher<object, object>(
            (batch, ct) =>
            {
                batch.SetResult(0, new object());
                batch.Fail(1, new InvalidOperationException("failed on purpose"));
                batch.Retry(2, new InvalidOperationException("retry exhausted on purpose"));
                return default;
            },
            new BatcherOptions<object, object>
            {
                MaxBatchSize = 3,
                MaxBatchDelay = Timeout.InfiniteTimeSpan,
                Retry = new RetryPolicy { MaxAttempts = 1 },
                TimeProvider = new FakeTimeProvider(),
            });
        batcher.Start();

        WeakReference[] leftovers = await RunOneBatchAsync(batcher);
        await batcher.IdleAsync();
        // The stop completes from the loop's last pass, which may still be returning on its pool thread (a stack root)
        // on a loaded machine: collect again, briefly, until that thread is done.
        for (int i = 0; i < 100 && leftovers.Any(r => r.IsAlive); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            if (leftovers.Any(r => r.IsAlive))
            {
                await Task.Delay(10);
            }
        }

        string[] alive = [.. leftovers.Where(r => r.IsAlive).Select(r => r.Target?.ToString() ?? "?")];
        Assert.True(alive.Length == 0, "Still reachable after the batch was done: " + string.Join(", ", alive));
    }

    private static async Task<WeakReference[]> RunOneBatchAsync(Batcher<object, object> batcher)
    {
        var jobs = new[] { new object(), new object(), new object() };
        Task<object>[] waits = [.. jobs.Select(j => batcher.AddAndWaitAsync(j).AsTask())];
        var references = new List<WeakReference>();
        references.AddRange(jobs.Select(j => new WeakReference(j)));
        references.Add(new WeakReference(await waits[0].Guarded()));
        foreach (Task<object> failed in waits.Skip(1))
        {
            references.Add(new WeakReference(await Assert.ThrowsAsync<InvalidOperationException>(() => failed.Guarded())));
        }

        return [.. references];
    }
}
