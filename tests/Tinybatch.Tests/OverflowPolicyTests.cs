using System.Reflection;
using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>OverflowPolicy: what an add does when the buffer is full. Nothing is lost silently.</summary>
public class OverflowPolicyTests
{
    private static (Batcher<int, int> Batcher, Recorder<int> Recorder, List<DeadLetter<int>> DeadLetters) Full(OverflowPolicy policy)
    {
        var recorder = new Recorder<int>();
        var deadLetters = new List<DeadLetter<int>>();
        var batcher = new Batcher<int, int>(
            recorder.Echo,
            new BatcherOptions<int, int>
            {
                MaxBatchSize = 2,
                Capacity = 2,
                OverflowPolicy = policy,
                MaxBatchDelay = Timeout.InfiniteTimeSpan,
                TimeProvider = new FakeTimeProvider(),
                OnDeadLetter = d =>
                {
                    lock (deadLetters)
                    {
                        deadLetters.Add(d);
                    }
                },
            });
        return (batcher, recorder, deadLetters);
    }

    [Fact]
    public async Task Wait_BufferFull_AddsWaitForSpaceAndNothingIsLost()
    {
        var (batcher, recorder, deadLetters) = Full(OverflowPolicy.Wait);
        Task<int> first = batcher.AddAndWaitAsync(1).AsTask();
        batcher.TryAdd(2);
        Task waiting = batcher.AddAsync(3).AsTask();
        Assert.False(waiting.IsCompleted);

        batcher.Start();
        await waiting.Guarded();
        await batcher.StopAsync().Guarded();

        Assert.Equal(1, await first.Guarded());
        Assert.Equal([1, 2, 3], recorder.AllJobs);
        Assert.Empty(deadLetters);
    }

    [Fact]
    public async Task Reject_BufferFull_AddsThrowBatcherFullCountedAndDeadLettered()
    {
        var (batcher, _, deadLetters) = Full(OverflowPolicy.Reject);
        batcher.TryAdd(1);
        batcher.TryAdd(2);

        await Assert.ThrowsAsync<BatcherFullException>(async () => await batcher.AddAsync(3));
        var error = await Assert.ThrowsAsync<BatcherFullException>(async () => await batcher.AddAndWaitAsync(4));
        Assert.False(batcher.TryAdd(5));

        Assert.Contains("full", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, batcher.Counters.Rejected);
        Assert.Equal(2, batcher.Counters.Accepted);

        // Dead letters decided on a producer are reported off its thread; StopAsync waits for them.
        await batcher.StopAsync().Guarded();
        Assert.Equal([3, 4], deadLetters.Select(d => d.Job).Order());
        Assert.All(deadLetters, d => Assert.Equal(DeadLetterReason.Rejected, d.Reason));
        Assert.All(deadLetters, d => Assert.IsType<BatcherFullException>(d.Exception));
    }

    [Fact]
    public async Task DropWrite_BufferFull_NewJobDroppedCountedAndDeadLettered()
    {
        var (batcher, recorder, deadLetters) = Full(OverflowPolicy.DropWrite);
        batcher.TryAdd(1);
        batcher.TryAdd(2);

        await batcher.AddAsync(3);
        await Assert.ThrowsAsync<JobDroppedException>(() => batcher.AddAndWaitAsync(4).Guarded());
        Assert.False(batcher.TryAdd(5));

        BatcherCounters c = batcher.Counters;
        Assert.Equal(3, c.Rejected + c.Dropped);

        batcher.Start();
        await batcher.StopAsync().Guarded();
        Assert.Equal([1, 2], recorder.AllJobs);
        Assert.Equal([3, 4], deadLetters.Select(d => d.Job).Order());
        Assert.All(deadLetters, d => Assert.Equal(DeadLetterReason.Dropped, d.Reason));
        Assert.All(deadLetters, d => Assert.IsType<JobDroppedException>(d.Exception));
    }

    [Fact]
    public async Task DropOldest_BufferFull_OldestQueuedJobDroppedForTheNewOne()
    {
        var (batcher, recorder, deadLetters) = Full(OverflowPolicy.DropOldest);
        Task<int> oldest = batcher.AddAndWaitAsync(1).AsTask();
        batcher.TryAdd(2);

        Task<int> newest = batcher.AddAndWaitAsync(3).AsTask();
        Assert.True(batcher.TryAdd(4));

        JobDroppedException dropped = await Assert.ThrowsAsync<JobDroppedException>(() => oldest.Guarded());
        Assert.Contains("the oldest queued", dropped.Message, StringComparison.Ordinal);
        Assert.Equal(2, batcher.Counters.Dropped);

        batcher.Start();
        await batcher.StopAsync().Guarded();
        Assert.Equal([1, 2], deadLetters.Select(d => d.Job).Order());
        Assert.All(deadLetters, d => Assert.Equal(DeadLetterReason.Dropped, d.Reason));
        Assert.Equal(3, await newest.Guarded());
        Assert.Equal([3, 4], recorder.AllJobs);
        BatcherCounters c = batcher.Counters;
        Assert.Equal(c.Accepted, c.Succeeded + c.Failed + c.Canceled + c.Dropped);
    }

    [Fact]
    public async Task DropOldest_DeadLetterCallbackStalled_AddingThreadDeliversWhatExceedsTheOutbox()
    {
        // The outbox of dead letters decided while adding holds about a thousand letters (OnDeadLetter's documentation);
        // past that the adding thread delivers the oldest itself, so a stalled callback cannot make memory grow.
        const int OutboxLimit = 1024;
        const int Drops = 5_000;
        int producer = Environment.CurrentManagedThreadId;
        using var stalled = new ManualResetEventSlim();
        int inline = 0;
        int delivered = 0;
        var batcher = new Batcher<int, int>(
            new Recorder<int>().Echo,
            new BatcherOptions<int, int>
            {
                MaxBatchSize = 2,
                Capacity = 2,
                OverflowPolicy = OverflowPolicy.DropOldest,
                MaxBatchDelay = Timeout.InfiniteTimeSpan,
                TimeProvider = new FakeTimeProvider(),
                OnDeadLetter = d =>
                {
                    Assert.Equal(DeadLetterReason.Dropped, d.Reason);
                    Assert.IsType<JobDroppedException>(d.Exception);
                    if (Environment.CurrentManagedThreadId == producer)
                    {
                        inline++;
                    }
                    else
                    {
                        stalled.Wait();
                    }

                    Interlocked.Increment(ref delivered);
                },
            });

        for (int i = 0; i < Drops + 2; i++)
        {
            Assert.True(batcher.TryAdd(i));
        }

        Assert.Equal(Drops - OutboxLimit, inline);
        Assert.Equal(Drops, batcher.Counters.Dropped);

        stalled.Set();
        batcher.Start();
        await batcher.StopAsync().Guarded();
        Assert.Equal(Drops, Volatile.Read(ref delivered));
        Assert.Equal(0, batcher.Counters.CallbackFailures);
    }
    /// <summary>
    /// DropOldest evicts from the queue. A job already taken as the next batch's first is not in it any more, so with
    /// nothing to evict the new job is refused and counted, never slipped in over capacity.
    /// </summary>
    [Fact]
    public async Task DropOldest_NothingQueuedToEvict_NewJobRefusedAndCounted()
    {
        var gate = new HandlerGate();
        var deadLetters = new List<DeadLetter<int>>();
        await using var batcher = new Batcher<int, int>(
            async (batch, ct) =>
            {
                await gate.PassAsync();
                batch.SetResults([.. batch]);
            },
            new BatcherOptions<int, int>
            {
                MaxBatchSize = 1,
                Capacity = 1,
                OverflowPolicy = OverflowPolicy.DropOldest,
                MaxBatchDelay = Timeout.InfiniteTimeSpan,
                TimeProvider = new FakeTimeProvider(),
                OnDeadLetter = d =>
                {
                    lock (deadLetters)
                    {
                        deadLetters.Add(d);
                    }
                },
            });
        batcher.Start();
        Assert.True(batcher.TryAdd(1));
        await gate.WhenEnteredAsync(1);
        Assert.True(batcher.TryAdd(2));
        FieldInfo hasCarry = typeof(Batcher<int, int>).GetField("_hasCarry", BindingFlags.NonPublic | BindingFlags.Instance)!;
        Assert.True(SpinWait.SpinUntil(() => (bool)hasCarry.GetValue(batcher)!, Guard.Timeout), "job 2 never became the next batch's first job");

        Assert.False(batcher.TryAdd(3));

        BatcherCounters c = batcher.Counters;
        Assert.Equal((2, 1, 0, 1), (c.Accepted, c.Rejected, c.Dropped, batcher.PendingCount));
        gate.Open();
        await batcher.StopAsync().Guarded();
        Assert.Equal((2, 2), (batcher.Counters.Accepted, batcher.Counters.Succeeded));
        lock (deadLetters)
        {
            Assert.Empty(deadLetters);
        }
    }

    [Fact]
    public async Task DropWrite_AwaitedJobDropped_ExceptionSaysWhy()
    {
        var (batcher, _, _) = Full(OverflowPolicy.DropWrite);
        batcher.TryAdd(1);
        batcher.TryAdd(2);

        JobDroppedException dropped = await Assert.ThrowsAsync<JobDroppedException>(() => batcher.AddAndWaitAsync(3).AsTask().Guarded());

        Assert.Contains("the new job was dropped", dropped.Message, StringComparison.Ordinal);
        await batcher.DisposeAsync();
    }
}
