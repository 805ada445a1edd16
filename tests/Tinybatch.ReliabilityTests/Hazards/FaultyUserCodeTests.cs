namespace Tinybatch.ReliabilityTests.Hazards;

/// <summary>Handlers and callbacks that throw on every call: every job still gets an outcome, the batcher keeps going.</summary>
[Collection(ReliabilitySuite.Name)]
public sealed class FaultyUserCodeTests
{
    private static readonly TimeSpan Guard = HangGuard.Timeout;

    [Fact]
    public async Task Handler_ThrowsOnEveryCall_EveryJobFailsWithThatExceptionAndBatcherKeepsRunning()
    {
        int calls = 0;
        Func<IReadOnlyList<int>, CancellationToken, IReadOnlyList<int>> handler = (_, _) =>
        {
            Interlocked.Increment(ref calls);
            throw new InjectedFailureException("handler down");
        };
        await using var batcher = new Batcher<int, int>(
            handler,
            new BatcherOptions<int, int> { MaxBatchSize = 3, MaxBatchDelay = Timeout.InfiniteTimeSpan });
        batcher.Start();

        Task<int>[] jobs = Enumerable.Range(0, 10).Select(i => batcher.AddAndWaitAsync(i).AsTask()).ToArray();
        await batcher.FlushAsync().WaitAsync(Guard);

        foreach (Task<int> job in jobs)
        {
            InjectedFailureException ex = await Assert.ThrowsAsync<InjectedFailureException>(() => job.WaitAsync(Guard));
            Assert.Equal("handler down", ex.Message);
        }

        Assert.Equal(4, Volatile.Read(ref calls));
        Assert.Equal(10, batcher.Counters.Failed);
        Assert.Equal(BatcherState.Running, batcher.State);
    }

    [Fact]
    public async Task Handler_ThrowsSynchronouslyBeforeReturningATask_EveryJobFails()
    {
        await using var batcher = new Batcher<int, int>(
            (Batch<int, int> _, CancellationToken _) => throw new InjectedFailureException(),
            new BatcherOptions<int, int> { MaxBatchSize = 2, MaxBatchDelay = Timeout.InfiniteTimeSpan });
        batcher.Start();

        Task<int>[] jobs = [batcher.AddAndWaitAsync(1).AsTask(), batcher.AddAndWaitAsync(2).AsTask()];

        foreach (Task<int> job in jobs)
        {
            await Assert.ThrowsAsync<InjectedFailureException>(() => job.WaitAsync(Guard));
        }
    }

    [Fact]
    public async Task Callbacks_ThrowOnEveryCall_OutcomesStillDeliveredAndFailuresCounted()
    {
        int completedCalls = 0;
        int deadLetterCalls = 0;
        var batcher = new Batcher<int, int>(
            (jobs, _) => jobs.Select(j => j % 2 == 0 ? j : throw new InjectedFailureException()).ToArray(),
            new BatcherOptions<int, int>
            {
                MaxBatchSize = 1,
                MaxBatchDelay = TimeSpan.Zero,
                OnBatchCompleted = _ =>
                {
                    Interlocked.Increment(ref completedCalls);
                    throw new InjectedFailureException("callback");
                },
                OnDeadLetter = _ =>
                {
                    Interlocked.Increment(ref deadLetterCalls);
                    throw new InjectedFailureException("dead letter");
                },
            });
        batcher.Start();

        int ok = await batcher.AddAndWaitAsync(2).AsTask().WaitAsync(Guard);
        await Assert.ThrowsAsync<InjectedFailureException>(() => batcher.AddAndWaitAsync(3).AsTask().WaitAsync(Guard));
        for (int i = 10; i < 20; i++)
        {
            batcher.TryAdd(i);
        }

        await batcher.StopAsync().WaitAsync(Guard);

        Assert.Equal(2, ok);
        BatcherCounters counters = batcher.Counters;
        Assert.Equal(12, counters.Accepted);
        Assert.Equal(12, counters.Succeeded + counters.Failed);
        Assert.Equal(12, Volatile.Read(ref completedCalls));
        // Job 3 and the odd jobs 11..19 failed: six dead letters.
        Assert.Equal(6, Volatile.Read(ref deadLetterCalls));
        Assert.Equal(18, counters.CallbackFailures);
    }

    [Fact]
    public async Task RetryPolicy_GetDelayThrows_JobIsRetriedAtOnceAndFailureCounted()
    {
        int attempts = 0;
        await using var batcher = new Batcher<int, int>(
            (Batch<int, int> batch, CancellationToken _) =>
            {
                if (Interlocked.Increment(ref attempts) == 1)
                {
                    batch.Retry(0, new InjectedFailureException());
                }
                else
                {
                    batch.SetResult(0, 99);
                }

                return ValueTask.CompletedTask;
            },
            new BatcherOptions<int, int> { MaxBatchSize = 1, MaxBatchDelay = TimeSpan.Zero, Retry = new ThrowingRetryPolicy() });
        batcher.Start();

        int result = await batcher.AddAndWaitAsync(1).AsTask().WaitAsync(Guard);

        Assert.Equal(99, result);
        Assert.Equal(2, Volatile.Read(ref attempts));
        Assert.Equal(1, batcher.Counters.CallbackFailures);
        Assert.Equal(1, batcher.Counters.Retried);
    }

    private sealed class ThrowingRetryPolicy : RetryPolicy
    {
        public override TimeSpan GetDelay(int nextAttempt, Exception? reason) => throw new InjectedFailureException("policy");
    }
}
