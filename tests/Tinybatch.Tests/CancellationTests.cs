using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>Contract point 8: a caller's token cancels that caller's wait, before or after dispatch.</summary>
public class CancellationTests
{
    private static BatcherOptions<int, int> SizeOnly(int size = 10, int capacity = 10_000) => new()
    {
        MaxBatchSize = size,
        Capacity = capacity,
        MaxBatchDelay = Timeout.InfiniteTimeSpan,
        TimeProvider = new FakeTimeProvider(),
    };

    /// <summary>
    /// An awaited job's completion is pooled once its caller has the result, and the next caller may get the same one.
    /// By then the first caller's token must be let go of: cancelling it later must not reach the next caller.
    /// </summary>
    [Fact]
    public async Task AddAndWaitAsync_TokenCancelledAfterTheResult_DoesNotReachTheNextCallerOfThatCompletion()
    {
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(recorder.Echo, SizeOnly(size: 2));
        batcher.Start();
        using var cts = new CancellationTokenSource();
        Task<int> first = batcher.AddAndWaitAsync(1, cts.Token).AsTask();
        await batcher.FlushAsync().Guarded();
        Assert.Equal(1, await first.Guarded());

        // Both owners have let go of the first completion: the pool holds it, and this job gets it.
        Task<int> second = batcher.AddAndWaitAsync(2).AsTask();
        cts.Cancel();
        await batcher.FlushAsync().Guarded();

        Assert.Equal(2, await second.Guarded());
        Assert.Equal(0, batcher.Counters.Canceled);
    }

    [Fact]
    public async Task AddAndWaitAsync_CancelledBeforeDispatch_JobLeavesItsBatchAndIsCountedCanceled()
    {
        var recorder = new Recorder<int>();
        var batcher = new Batcher<int, int>(recorder.Echo, SizeOnly());
        batcher.Start();
        using var cts = new CancellationTokenSource();
        Task<int> canceled = batcher.AddAndWaitAsync(1, cts.Token).AsTask();
        Task<int> kept = batcher.AddAndWaitAsync(2).AsTask();
        batcher.TryAdd(3);

        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled.Guarded());
        await batcher.StopAsync().Guarded();

        Assert.Equal(2, await kept.Guarded());
        Assert.Equal([2, 3], Assert.Single(recorder.Batches));
        BatcherCounters counters = batcher.Counters;
        Assert.Equal(1, counters.Canceled);
        Assert.Equal(3, counters.Accepted);
        Assert.Equal(counters.Accepted, counters.Succeeded + counters.Failed + counters.Canceled + counters.Dropped);
    }

    /// <summary>
    /// A job cancelled behind the head keeps its entry until the loop skips it, but it is no longer queued: the batch is
    /// full by live jobs only, so two live jobs of three wait for their delay.
    /// </summary>
    [Fact]
    public async Task AddAndWaitAsync_CancelledBehindTheHead_DoesNotFillTheBatch()
    {
        var time = new FakeTimeProvider();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            recorder.Echo,
            new BatcherOptions<int, int> { MaxBatchSize = 3, MaxBatchDelay = TimeSpan.FromMilliseconds(25), TimeProvider = time });
        batcher.Start();
        Task<int> first = batcher.AddAndWaitAsync(1).AsTask();
        using var cts = new CancellationTokenSource();
        Task<int> canceled = batcher.AddAndWaitAsync(2, cts.Token).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled.Guarded());
        Task<int> third = batcher.AddAndWaitAsync(3).AsTask();

        await batcher.IdleAsync();
        Assert.Empty(recorder.Batches);

        time.Advance(TimeSpan.FromMilliseconds(25));
        Assert.Equal(1, await first.Guarded());
        Assert.Equal(3, await third.Guarded());
        Assert.Equal([1, 3], Assert.Single(recorder.Batches));
    }

    /// <summary>
    /// A compaction purges the entries of callers who cancelled from behind the head of the queue: the positions they
    /// held are holes, not queued jobs. With MaxBatchSize 3, two live jobs behind a purged cancellation wave still wait
    /// for their delay once the stalled handler returns.
    /// </summary>
    [Fact]
    public async Task AddAndWaitAsync_CancelWaveCompactedBehindTheHead_DoesNotFillTheBatch()
    {
        const int Wave = 1_100; // more than max(1,024, places in use): the loop compacts the queue
        var time = new FakeTimeProvider();
        var gate = new HandlerGate();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                recorder.Record(jobs);
                if (jobs[0] == 1)
                {
                    await gate.PassAsync();
                }

                return jobs;
            },
            new BatcherOptions<int, int> { MaxBatchSize = 3, MaxBatchDelay = TimeSpan.FromMilliseconds(25), TimeProvider = time });
        batcher.Start();
        Task<int>[] stalled = [batcher.AddAndWaitAsync(1).AsTask(), batcher.AddAndWaitAsync(2).AsTask(), batcher.AddAndWaitAsync(3).AsTask()];
        await gate.WhenEnteredAsync(1);
        try
        {
            Task<int> fourth = batcher.AddAndWaitAsync(4).AsTask();
            using var cts = new CancellationTokenSource();
            var waits = new List<Task<int>>();
            for (int i = 0; i < Wave; i++)
            {
                waits.Add(batcher.AddAndWaitAsync(100 + i, cts.Token).AsTask());
            }

            await cts.CancelAsync();
            foreach (Task<int> wait in waits)
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.Guarded());
            }

            Task<int> fifth = batcher.AddAndWaitAsync(5).AsTask();
            gate.Open();
            int[] results = await Task.WhenAll(stalled).Guarded();
            Assert.Equal([1, 2, 3], results);
            await batcher.IdleAsync();
            Assert.True(batcher.Intake.DroppedSinceCompaction < Wave, "The wave was never compacted."); // purged from behind job 4
            Assert.Equal(1, batcher.Counters.Batches); // counted as the loop cuts a batch, before it goes idle
            Assert.False(fourth.IsCompleted);

            time.Advance(TimeSpan.FromMilliseconds(25));
            Assert.Equal(4, await fourth.Guarded());
            Assert.Equal(5, await fifth.Guarded());
            Assert.Equal([[1, 2, 3], [4, 5]], recorder.Batches);
        }
        finally
        {
            gate.Open(); // a failed assertion must not leave the disposal waiting for the stalled handler
        }
    }

    [Fact]
    public async Task AddAndWaitAsync_CancelledBeforeDispatch_FreesItsPlaceInTheBuffer()
    {
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, SizeOnly(size: 2, capacity: 2));
        using var cts = new CancellationTokenSource();
        Task<int> canceled = batcher.AddAndWaitAsync(1, cts.Token).AsTask();
        batcher.TryAdd(2);
        Assert.False(batcher.TryAdd(3));

        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled.Guarded());

        Assert.True(batcher.TryAdd(3));
        Assert.Equal(2, batcher.PendingCount);
    }

    [Fact]
    public async Task AddAndWaitAsync_OnlyJobCancelled_NoEmptyBatchIsDispatched()
    {
        var recorder = new Recorder<int>();
        var batcher = new Batcher<int, int>(recorder.Echo, SizeOnly());
        batcher.Start();
        using var cts = new CancellationTokenSource();
        Task<int> canceled = batcher.AddAndWaitAsync(1, cts.Token).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled.Guarded());

        await batcher.FlushAsync().Guarded();
        await batcher.StopAsync().Guarded();

        Assert.Equal(0, recorder.BatchCount);
        Assert.Equal(0, batcher.Counters.Batches);
    }

    [Fact]
    public async Task AddAndWaitAsync_CancelledAfterDispatch_JobStillProcessedButWaitCancelled()
    {
        var gate = new HandlerGate();
        var recorder = new Recorder<int>();
        var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                recorder.Record(jobs);
                await gate.PassAsync();
                return jobs;
            },
            SizeOnly(size: 1));
        batcher.Start();
        using var cts = new CancellationTokenSource();
        Task<int> awaited = batcher.AddAndWaitAsync(1, cts.Token).AsTask();
        await gate.WhenEnteredAsync(1);

        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => awaited.Guarded());
        Assert.Equal(0, batcher.Counters.Succeeded);

        gate.Open();
        await batcher.StopAsync().Guarded();
        Assert.Equal([1], Assert.Single(recorder.Batches));
        Assert.Equal(1, batcher.Counters.Succeeded);
        Assert.Equal(0, batcher.Counters.Canceled);
    }

    [Fact]
    public async Task AddAsync_CancelledWhileWaitingForSpace_ThrowsAndIsNotAccepted()
    {
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, SizeOnly(size: 1, capacity: 1));
        batcher.TryAdd(1);
        using var cts = new CancellationTokenSource();
        Task add = batcher.AddAsync(2, cts.Token).AsTask();
        Task<int> addAndWait = batcher.AddAndWaitAsync(3, cts.Token).AsTask();
        Assert.False(add.IsCompleted);

        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => add.Guarded());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => addAndWait.Guarded());
        Assert.Equal(1, batcher.Counters.Accepted);
    }

    [Fact]
    public async Task Add_TokenAlreadyCancelled_ThrowsAndIsNotAccepted()
    {
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, SizeOnly());
        var canceled = new CancellationToken(canceled: true);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await batcher.AddAsync(1, canceled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await batcher.AddAndWaitAsync(1, canceled));

        Assert.Equal(0, batcher.Counters.Accepted);
    }
    /// <summary>
    /// A lock-free queue cannot remove from its middle, so the entries of callers who cancelled stay in it until the
    /// loop compacts them away: once more of them than max(1,024, Capacity) have cancelled since the last compaction.
    /// Each round cancels exactly one more than that (in two waves, as the buffer holds only 2,000), and the second
    /// compaction also passes over the live jobs the first one kept aside.
    /// </summary>
    [Fact]
    public async Task AddAndWaitAsync_ThousandsCancelledBehindAStalledHandler_AreLetGoAndLiveJobsKeepTheirOrder()
    {
        const int capacity = 2_000;
        var gate = new HandlerGate();
        var recorder = new Recorder<int>();
        var batcher = new Batcher<Box, int>(
            async (batch, ct) =>
            {
                recorder.Record(batch.Select(b => b.Id));
                if (batch.Id == 1)
                {
                    await gate.PassAsync();
                }

                for (int i = 0; i < batch.Count; i++)
                {
                    batch.SetResult(i, batch[i].Id);
                }
            },
            new BatcherOptions<Box, int>
            {
                MaxBatchSize = 10,
                MaxBatchDelay = Timeout.InfiniteTimeSpan,
                Capacity = capacity,
                TimeProvider = new FakeTimeProvider(),
            });
        batcher.Start();
        var live = new List<int>();
        int next = 0;
        for (int i = 0; i < 10; i++)
        {
            batcher.TryAdd(new Box(++next));
            live.Add(next);
        }

        await gate.WhenEnteredAsync(1);

        for (int round = 1; round <= 2; round++)
        {
            var jobs = new List<WeakReference>();
            foreach (int wave in new[] { capacity / 2, (capacity / 2) + 1 })
            {
                using var cts = new CancellationTokenSource();
                var waits = new List<Task<int>>();
                for (int i = 0; i < wave; i++)
                {
                    if (i % 100 == 0)
                    {
                        batcher.TryAdd(new Box(++next));
                        live.Add(next);
                    }

                    (Task<int> wait, WeakReference job) = AddCancellable(batcher, ++next, cts.Token);
                    waits.Add(wait);
                    jobs.Add(job);
                }

                await cts.CancelAsync();
                foreach (Task<int> wait in waits)
                {
                    await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.Guarded());
                }
            }

            // The handler is still stalled: only a compaction can have let go of the cancelled jobs.
            Assert.True(
                await AllCollectedAsync(jobs),
                $"Round {round}: the jobs of callers who cancelled are still held while the handler is stalled.");
        }

        batcher.TryAdd(new Box(++next));
        live.Add(next);
        gate.Open();
        await batcher.StopAsync().Guarded();

        Assert.Equal(live, recorder.AllJobs);
        Assert.Equal(2 * (capacity + 1), batcher.Counters.Canceled);
        Assert.Equal(live.Count, batcher.Counters.Succeeded);
    }

    private static (Task<int> Wait, WeakReference Job) AddCancellable(Batcher<Box, int> batcher, int id, CancellationToken cancellationToken)
    {
        var job = new Box(id);
        return (batcher.AddAndWaitAsync(job, cancellationToken).AsTask(), new WeakReference(job));
    }

    /// <summary>Collects until every reference is dead, or gives up after the hang guard.</summary>
    private static async Task<bool> AllCollectedAsync(IEnumerable<WeakReference> references)
    {
        WeakReference[] all = [.. references];
        var guard = System.Diagnostics.Stopwatch.StartNew();
        while (guard.Elapsed < Guard.Timeout)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            if (all.All(r => !r.IsAlive))
            {
                return true;
            }

            // The loop compacts on its own thread after the last cancellation: give it the processor.
            await Task.Yield();
        }

        return false;
    }

    private sealed record Box(int Id);
}
