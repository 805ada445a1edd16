using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>
/// The stream-wide pause (<see cref="OutageBackoff"/>): after a failed handler call dispatch pauses for what the backoff
/// says, on the batcher's clock; during the pause jobs stay queued with their places, a flush waits for them, the
/// counters say where they are, and a success ends the backoff's growth.
/// </summary>
public sealed class OutageBackoffTests
{
    [Fact]
    public async Task HandlerFails_NextBatchWaitsOutThePauseOnTheBatchersClock()
    {
        var rig = new Rig();
        rig.Batcher.TryAdd(1);
        await rig.Calls.WhenBatchesAsync(1);

        // The pause starts when the failure is applied, after the handler returns: wait for that before moving the clock.
        await rig.Batcher.WhenIdleAsync().WaitAsync(HangGuard.Timeout);
        rig.Batcher.TryAdd(2);
        rig.Clock.Advance(TimeSpan.FromMilliseconds(999));
        await rig.Batcher.WhenIdleAsync().WaitAsync(HangGuard.Timeout);
        Assert.Equal(1, rig.Calls.BatchCount);

        rig.Clock.Advance(TimeSpan.FromMilliseconds(1));
        await rig.Calls.WhenBatchesAsync(2);
        await rig.Batcher.FlushAsync().WaitAsync(HangGuard.Timeout);
        Assert.Equal([[1], [2]], rig.Calls.Batches);
        Assert.Equal(2, rig.Backoff.Seen.Count);
        Assert.Same(rig.Failure, rig.Backoff.Seen[0]);
        Assert.Null(rig.Backoff.Seen[1]);
    }

    [Fact]
    public async Task DuringThePause_JobsStayQueuedWithTheirPlaces_ProducersMeetTheCapacity()
    {
        var rig = new Rig(capacity: 3);
        rig.Batcher.TryAdd(1);
        await rig.Calls.WhenBatchesAsync(1);
        await rig.Batcher.WhenIdleAsync().WaitAsync(HangGuard.Timeout);

        // Job 1 failed: its place is free again. Three more fill the buffer while dispatch is paused.
        Assert.True(rig.Batcher.TryAdd(2));
        Assert.True(rig.Batcher.TryAdd(3));
        Assert.True(rig.Batcher.TryAdd(4));
        Assert.False(rig.Batcher.TryAdd(5));
        Assert.Equal(3, rig.Batcher.PendingCount);
        Assert.Equal(3, rig.Batcher.Counters.Pending);
        Assert.Equal(0, rig.Batcher.Counters.InFlight);
        Assert.Equal(1, rig.Batcher.Counters.Failed);

        rig.Clock.Advance(TimeSpan.FromSeconds(1));
        await rig.Calls.WhenBatchesAsync(2);
        await rig.Batcher.FlushAsync().WaitAsync(HangGuard.Timeout);
        Assert.Equal(3, rig.Batcher.Counters.Succeeded);
        Assert.Equal(0, rig.Batcher.PendingCount);
    }

    [Fact]
    public async Task FlushDuringThePause_CompletesOnlyOnceThePauseEndedAndItsJobsHaveOutcomes()
    {
        var rig = new Rig();
        rig.Batcher.TryAdd(1);
        await rig.Calls.WhenBatchesAsync(1);
        await rig.Batcher.WhenIdleAsync().WaitAsync(HangGuard.Timeout);
        rig.Batcher.TryAdd(2);

        Task flush = rig.Batcher.FlushAsync();
        await rig.Batcher.WhenIdleAsync().WaitAsync(HangGuard.Timeout);
        Assert.False(flush.IsCompleted, "the flush completed while its job waited out the pause");
        Assert.Equal(1, rig.Calls.BatchCount);

        rig.Clock.Advance(TimeSpan.FromSeconds(1));
        await flush.WaitAsync(HangGuard.Timeout);
        Assert.Equal([[1], [2]], rig.Calls.Batches);
        Assert.Equal(1, rig.Batcher.Counters.Succeeded);
    }

    [Fact]
    public async Task StopWithoutDeadline_DuringThePause_DrainsAfterThePause()
    {
        var rig = new Rig();
        rig.Batcher.TryAdd(1);
        await rig.Calls.WhenBatchesAsync(1);
        await rig.Batcher.WhenIdleAsync().WaitAsync(HangGuard.Timeout);
        rig.Batcher.TryAdd(2);

        Task stop = rig.Batcher.StopAsync();
        await rig.Batcher.WhenIdleAsync().WaitAsync(HangGuard.Timeout);
        Assert.False(stop.IsCompleted, "the stop completed while a job waited out the pause");

        rig.Clock.Advance(TimeSpan.FromSeconds(1));
        await stop.WaitAsync(HangGuard.Timeout);
        Assert.Equal((2, 1, 1), (rig.Batcher.Counters.Accepted, rig.Batcher.Counters.Succeeded, rig.Batcher.Counters.Failed));
    }

    /// <summary>A batcher of size 1 whose handler fails job 1 (the whole call) and succeeds otherwise.</summary>
    private sealed class Rig
    {
        public Rig(int capacity = 100)
        {
            Batcher = new Batcher<int, int>(
                (Batch<int, int> batch, CancellationToken _) =>
                {
                    Calls.Record(batch);
                    if (batch[0] == 1)
                    {
                        throw Failure;
                    }

                    batch.SetResults(batch.ToArray());
                    return ValueTask.CompletedTask;
                },
                new BatcherOptions<int, int>
                {
                    MaxBatchSize = 1,
                    MaxBatchDelay = TimeSpan.Zero,
                    Capacity = capacity,
                    TimeProvider = Clock,
                    OutageBackoff = Backoff,
                });
            Batcher.Start();
        }

        public FakeTimeProvider Clock { get; } = new();

        public RecordingBackoff Backoff { get; } = new();

        public Recorder<int> Calls { get; } = new();

        public InvalidOperationException Failure { get; } = new("the sink is down");

        public Batcher<int, int> Batcher { get; }
    }

    /// <summary>One second of pause after a failure, none after a success; records what it was told.</summary>
    private sealed class RecordingBackoff : OutageBackoff
    {
        private readonly List<Exception?> _seen = [];

        public IReadOnlyList<Exception?> Seen
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        public override ValueTask<TimeSpan> OnHandlerCompletedAsync(Exception? failure, CancellationToken cancellationToken)
        {
            lock (_seen)
            {
                _seen.Add(failure);
            }

            return ValueTask.FromResult(failure is null ? TimeSpan.Zero : TimeSpan.FromSeconds(1));
        }
    }
}
