using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>Contract point 9: no empty batches, no user code under a lock or on a producer, a loop that never dies.</summary>
public class HygieneTests
{
    [Fact]
    public async Task Dispatch_FlushAndTimerWithNothingPending_NeverDispatchesAnEmptyBatch()
    {
        var time = new FakeTimeProvider();
        var sizes = new List<int>();
        var batcher = new Batcher<int, int>(
            (jobs, ct) =>
            {
                lock (sizes)
                {
                    sizes.Add(jobs.Count);
                }

                return jobs;
            },
            new BatcherOptions<int, int> { MaxBatchSize = 2, MaxBatchDelay = TimeSpan.FromMilliseconds(10), TimeProvider = time });
        batcher.Start();

        await batcher.FlushAsync().Guarded();
        batcher.TryAdd(1);
        batcher.TryAdd(2);
        await batcher.IdleAsync();
        time.Advance(TimeSpan.FromSeconds(1));
        await batcher.FlushAsync().Guarded();
        await batcher.StopAsync().Guarded();

        Assert.Equal([2], sizes);
    }

    [Fact]
    public async Task UserCode_HandlerCallbacksAndContinuations_NeverRunUnderAnInternalLock()
    {
        IReadOnlyList<object> locks = [];
        bool lockHeld = false;
        void Check() => lockHeld |= InternalLocks.AnyHeld(locks);
        var options = new BatcherOptions<int, int>
        {
            MaxBatchSize = 2,
            Capacity = 2,
            MaxBatchDelay = TimeSpan.Zero,
            TimeProvider = new FakeTimeProvider(),
            Weigher = _ =>
            {
                Check();
                return 1;
            },
            OnBatchCompleted = _ => Check(),
            OnDeadLetter = _ => Check(),
            Retry = new RetryPolicy { MaxAttempts = 2 },
        };
        var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                Check();
                for (int i = 0; i < batch.Count; i++)
                {
                    if (batch[i] % 3 == 0)
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
            options);
        locks = InternalLocks.Of(batcher);
        Assert.NotEmpty(locks);

        // Fill the buffer before Start, so later adds wait for space and resume through the space lock's wake-up.
        batcher.TryAdd(1);
        batcher.TryAdd(2);
        Task[] producers =
        [
            .. Enumerable.Range(3, 20).Select(async i =>
            {
                await batcher.AddAsync(i);
                Check();
                try
                {
                    await batcher.AddAndWaitAsync(i + 100);
                }
                catch (InvalidOperationException)
                {
                    // Jobs divisible by 3 exhaust their retries: expected.
                }

                Check();
            }),
        ];
        batcher.Start();
        await Task.WhenAll(producers).Guarded();
        await batcher.StopAsync().Guarded();

        Assert.False(lockHeld, "user code ran while an internal lock of the batcher was held");
        Assert.True(batcher.Counters.Failed > 0, "the scenario should include dead-lettered jobs");
    }

    [Fact]
    public async Task UserCode_HandlerAndCallbacksWithZeroDelay_NeverRunOnTheProducersThread()
    {
        bool onProducer = false;
        var options = new BatcherOptions<int, int>
        {
            MaxBatchSize = 1,
            MaxBatchDelay = TimeSpan.Zero,
            TimeProvider = new FakeTimeProvider(),
            OnBatchCompleted = _ => onProducer |= ProducerThread.IsCurrent,
        };
        var batcher = new Batcher<int, int>(
            (jobs, ct) =>
            {
                onProducer |= ProducerThread.IsCurrent;
                return jobs;
            },
            options);
        batcher.Start();

        for (int i = 0; i < 100; i++)
        {
            ProducerThread.Run(() => batcher.TryAdd(i));
            await ProducerThread.Run(() => batcher.AddAsync(i).AsTask());
        }

        await batcher.StopAsync().Guarded();
        Assert.Equal(200, batcher.Counters.Succeeded);
        Assert.False(onProducer);
    }

    [Fact]
    public async Task Handler_CallsTryAddAndFlushOnItsOwnBatcher_TryAddWorksAndFlushFailsFast()
    {
        Batcher<int, int>? self = null;
        var refusals = new List<Exception?>();
        var fifth = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batcher = new Batcher<int, int>(
            (jobs, ct) =>
            {
                if (jobs[0] == 5)
                {
                    fifth.TrySetResult();
                }

                if (jobs[0] < 5)
                {
                    self!.TryAdd(jobs[0] + 1);

                    // Waiting for a flush here would wait for this very batch: it fails at once instead of deadlocking.
                    Exception? refusal = Record.Exception(() => { _ = self.FlushAsync(ct); });
                    lock (refusals)
                    {
                        refusals.Add(refusal);
                    }
                }

                return jobs;
            },
            new BatcherOptions<int, int> { MaxBatchSize = 10, MaxBatchDelay = TimeSpan.Zero, TimeProvider = new FakeTimeProvider() });
        self = batcher;
        batcher.Start();

        batcher.TryAdd(1);
        await fifth.Task.Guarded();
        await batcher.StopAsync().Guarded();

        Assert.Equal(5, batcher.Counters.Succeeded);
        Assert.Equal(4, refusals.Count);
        Assert.All(refusals, r => Assert.Contains("FlushAsync", Assert.IsType<InvalidOperationException>(r).Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Handler_Throws_LaterBatchesStillWork()
    {
        int calls = 0;
        await using var batcher = new Batcher<int, int>(
            (jobs, ct) => Interlocked.Increment(ref calls) % 2 == 1 ? throw new InvalidOperationException("odd call") : jobs,
            new BatcherOptions<int, int> { MaxBatchSize = 1, TimeProvider = new FakeTimeProvider() });
        batcher.Start();

        for (int i = 0; i < 5; i++)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.AddAndWaitAsync(i).Guarded());
            Assert.Equal(i, await batcher.AddAndWaitAsync(i).Guarded());
        }

        Assert.Equal(5, batcher.Counters.Failed);
        Assert.Equal(5, batcher.Counters.Succeeded);
        Assert.Equal(BatcherState.Running, batcher.State);
    }

    [Fact]
    public async Task Timers_AllComeFromTheTimeProvider_FireOnlyWhenItAdvancesAndAreDisposedByStop()
    {
        var time = new CountingTimeProvider();
        var recorder = new Recorder<int>();
        int attempts = 0;
        var options = new BatcherOptions<int, int>
        {
            MaxBatchSize = 100,
            MaxBatchDelay = TimeSpan.FromMilliseconds(1),
            HandlerTimeout = TimeSpan.FromMinutes(1),
            Retry = new RetryPolicy { MaxAttempts = 2, Delay = TimeSpan.FromMilliseconds(1) },
            TimeProvider = time,
        };
        var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                recorder.Record(batch);
                if (Interlocked.Increment(ref attempts) == 1)
                {
                    batch.Retry(0);
                }
                else
                {
                    batch.SetResult(0, batch[0]);
                }

                return default;
            },
            options);
        int timersAtStart = time.TimersCreated;
        batcher.Start();
        Task<int> awaited = batcher.AddAndWaitAsync(5).AsTask();

        await batcher.IdleAsync();
        Assert.Equal(0, recorder.BatchCount);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await recorder.WhenBatchesAsync(1);
        await batcher.IdleAsync();

        // The retry waits on its delay, on the same clock; then its new batch waits MaxBatchDelay again.
        Assert.False(awaited.IsCompleted);
        Assert.Equal(1, recorder.BatchCount);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await batcher.IdleAsync();
        Assert.Equal(1, recorder.BatchCount);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(5, await awaited.Guarded());
        await batcher.StopAsync().Guarded();

        Assert.True(timersAtStart >= 1, "the delay timer should be created on the TimeProvider");
        Assert.True(time.TimersCreated - timersAtStart >= 3, $"handler-timeout and retry timers should come from the TimeProvider; created {time.TimersCreated - timersAtStart}");
        Assert.True(time.TimersAlive == 0, $"every timer should be disposed once the batcher stopped; {time.TimersAlive} of {time.TimersCreated} are not");
    }

    [Theory]
    [InlineData(OverflowPolicy.Reject)]
    [InlineData(OverflowPolicy.DropWrite)]
    [InlineData(OverflowPolicy.DropOldest)]
    public async Task OnDeadLetter_RejectionOrDrop_NeverRunsOnTheProducersThread(OverflowPolicy policy)
    {
        bool onProducer = false;
        int deadLetters = 0;
        var batcher = new Batcher<int, int>(
            (jobs, ct) => jobs,
            new BatcherOptions<int, int>
            {
                MaxBatchSize = 1,
                Capacity = 1,
                OverflowPolicy = policy,
                MaxBatchDelay = Timeout.InfiniteTimeSpan,
                TimeProvider = new FakeTimeProvider(),
                OnDeadLetter = _ =>
                {
                    onProducer |= ProducerThread.IsCurrent;
                    Interlocked.Increment(ref deadLetters);
                },
            });
        batcher.TryAdd(1);

        await ProducerThread.Run(async () =>
        {
            try
            {
                await batcher.AddAsync(2);
            }
            catch (BatcherFullException)
            {
                // Reject: expected.
            }
        });
        await batcher.StopAsync().Guarded();

        Assert.Equal(1, Volatile.Read(ref deadLetters));
        Assert.False(
            onProducer,
            $"Contract point 9: callbacks never run on the producer's thread. OnDeadLetter ran inside AddAsync on the producer's thread ({policy}).");
    }
    [Fact]
    public async Task DispatchLoop_ItsClockThrows_FailsEveryWaitingJobAndAddVisiblyAndStops()
    {
        var time = new BreakableClock();
        var gate = new HandlerGate();
        var deadLetters = new List<DeadLetter<int>>();
        var batcher = new Batcher<int, int>(
            async (batch, ct) =>
            {
                if (batch.Id == 1)
                {
                    await gate.PassAsync();
                }

                for (int i = 0; i < batch.Count; i++)
                {
                    batch.SetResult(i, batch[i]);
                }
            },
            new BatcherOptions<int, int>
            {
                MaxBatchSize = 2,
                MaxBatchDelay = TimeSpan.FromMilliseconds(10),

                // Two places for the batch in flight, two for jobs 3 and 4: job 5 waits for space.
                Capacity = 4,
                HandlerTimeout = Timeout.InfiniteTimeSpan,
                TimeProvider = time,
                OnDeadLetter = letter =>
                {
                    lock (deadLetters)
                    {
                        deadLetters.Add(letter);
                    }
                },
            });
        batcher.Start();
        batcher.TryAdd(1);
        batcher.TryAdd(2);
        await gate.WhenEnteredAsync(1);
        Task<int> awaited = batcher.AddAndWaitAsync(3).AsTask();
        batcher.TryAdd(4);
        Task waitingForSpace = batcher.AddAsync(5).AsTask();
        Assert.False(waitingForSpace.IsCompleted);

        // Batch 1 finishes; cutting batch 2 reads the clock, which now throws inside the dispatch loop. Jobs 3 and 4
        // must not vanish with the batch being cut.
        time.Broken = true;
        gate.Open();

        BatcherStoppedException failure = await Assert.ThrowsAsync<BatcherStoppedException>(() => awaited.Guarded());
        Assert.Same(time.Thrown, failure.InnerException);
        Assert.Contains("dispatch loop", failure.Message, StringComparison.Ordinal);
        Assert.Contains(time.Thrown.Message, failure.Message, StringComparison.Ordinal);
        // The add waiting for space fails visibly either way: refused by the stop the loop's failure began, or, when it
        // got its place first, by the broken clock it read to stamp its job (its place is given back).
        Exception refused = await Assert.ThrowsAnyAsync<Exception>(() => waitingForSpace.Guarded());
        Assert.True(
            refused is BatcherStoppedException || ReferenceEquals(refused, time.Thrown),
            $"the add waiting for space failed with {refused.GetType().Name}: {refused.Message}");
        await batcher.Completion.Guarded();
        Assert.Equal(BatcherState.Stopped, batcher.State);
        Assert.False(batcher.TryAdd(6));
        BatcherCounters c = batcher.Counters;
        Assert.Equal((4, 2, 2), (c.Accepted, c.Succeeded, c.Failed));
        lock (deadLetters)
        {
            Assert.Equal([(3, DeadLetterReason.Stopped), (4, DeadLetterReason.Stopped)], deadLetters.Select(d => (d.Job, d.Reason)).Order());
        }
    }
}
