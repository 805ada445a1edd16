using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>
/// MaxBatchDelay counts from each batch's first add, whatever the clock's timer does: it may fire early, the job may
/// wait before <see cref="Batcher{TJob, TResult}.Start"/>, and it may have been added without a timestamp.
/// </summary>
public class DelayTimerTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(10);

    [Fact]
    public async Task DelayTimer_FiresBeforeTheDeadline_IsArmedAgainAndTheBatchLeavesAtTheDeadline()
    {
        var time = new CountingTimeProvider();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            recorder.Echo,
            new BatcherOptions<int, int> { MaxBatchSize = 100, MaxBatchDelay = Delay, TimeProvider = time });
        batcher.Start();
        batcher.TryAdd(1);
        await batcher.IdleAsync();

        time.Advance(TimeSpan.FromMilliseconds(3));
        Assert.Equal(1, time.FireArmedTimersEarly());
        await batcher.IdleAsync();
        Assert.Equal(0, recorder.BatchCount);

        // Nothing pokes the loop from here: only a timer armed again for the remaining 7 ms can release the batch.
        time.Advance(TimeSpan.FromMilliseconds(7));
        await recorder.WhenBatchesAsync(1);
        Assert.Equal([1], Assert.Single(recorder.Batches));
    }

    [Fact]
    public async Task Add_BeforeStart_DelayCountsFromTheAddNotFromStart()
    {
        var time = new FakeTimeProvider();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            recorder.Echo,
            new BatcherOptions<int, int> { MaxBatchSize = 100, MaxBatchDelay = Delay, TimeProvider = time });
        batcher.TryAdd(1);
        time.Advance(TimeSpan.FromMilliseconds(6));

        batcher.Start();
        await batcher.IdleAsync();
        Assert.Equal(0, recorder.BatchCount);
        time.Advance(TimeSpan.FromMilliseconds(4));

        await recorder.WhenBatchesAsync(1);
        Assert.Equal([1], Assert.Single(recorder.Batches));
    }

    /// <summary>
    /// With the system clock only a job that can start a batch is stamped when added (job 2 here is second in line);
    /// when the one in front of it is cancelled, job 2 starts the batch and its wait must count from then.
    /// </summary>
    [Fact]
    public async Task SystemClock_HeadAddedUnstampedBehindACancelledJob_StillLeavesAfterTheDelay()
    {
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            recorder.Echo,
            new BatcherOptions<int, int> { MaxBatchSize = 100, MaxBatchDelay = TimeSpan.FromMilliseconds(20) });
        using var cts = new CancellationTokenSource();
        Task<int> canceled = batcher.AddAndWaitAsync(1, cts.Token).AsTask();
        batcher.TryAdd(2);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled.Guarded());

        batcher.Start();

        await recorder.WhenBatchesAsync(1);
        Assert.Equal([2], Assert.Single(recorder.Batches));
    }
}
