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
                batch.SetException(1, bad);
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
                batch.SetException(0, new InvalidOperationException("first"));
                errors.Add(Record.Exception(() => batch.SetResult(0, 1)));
                errors.Add(Record.Exception(() => batch.SetException(0, new InvalidOperationException("second"))));
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
                batch.SetException(0, bad);
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
}
