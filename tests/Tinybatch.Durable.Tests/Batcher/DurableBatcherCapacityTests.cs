namespace Tinybatch.Durable.Tests;

/// <summary>
/// The journal's byte capacity is the batcher's MaxBufferedWeight (jobs weigh their journal bytes), held with the
/// same overflow policies as the memory buffer. One handler call is held open so jobs pile up.
/// </summary>
public sealed class DurableBatcherCapacityTests
{
    // {"Number":N,"Text":"job N"} is 27 bytes of JSON plus a 21-byte record header: 48 bytes a job for N < 10.
    private const int JobBytes = 48;

    [Fact]
    public async Task AddAsync_JournalFullWithReject_ThrowsAndTheRefusedJobLeavesNoRecord()
    {
        await using var run = await Held.StartAsync(OverflowPolicy.Reject, capacityJobs: 3);
        await run.Batcher.AddAsync(DurableHarness.Job(2));
        await run.Batcher.AddAsync(DurableHarness.Job(3));

        await Assert.ThrowsAsync<BatcherFullException>(() => run.Batcher.AddAsync(DurableHarness.Job(4)).AsTask());
        Assert.Equal(3, run.Batcher.JournalCounters.LiveJobs);
        Assert.Equal(3 * JobBytes, run.Batcher.JournalCounters.LiveBytes);

        await run.ReleaseAsync();
        Assert.Equal([1, 2, 3], run.Harness.Seen.Select(s => s.Job.Number));
    }

    [Fact]
    public async Task AddAsync_JournalFullWithWait_CompletesOnlyOnceAJobHasItsOutcome()
    {
        await using var run = await Held.StartAsync(OverflowPolicy.Wait, capacityJobs: 2);
        await run.Batcher.AddAsync(DurableHarness.Job(2));

        // No room until job 1 has its outcome, and the handler holds it: the add waits, and writes nothing meanwhile.
        var waiting = run.Batcher.AddAsync(DurableHarness.Job(3)).AsTask();
        Assert.False(waiting.IsCompleted);
        Assert.Equal(2, run.Batcher.JournalCounters.Appended);

        await run.ReleaseAsync();
        await waiting;
        await run.Batcher.FlushAsync();
        Assert.Equal([1, 2, 3], run.Harness.Seen.Select(s => s.Job.Number));
    }

    [Fact]
    public async Task AddAsync_JournalFullWithDropWrite_DeadLettersTheNewJobAndReleasesIt()
    {
        await using var run = await Held.StartAsync(OverflowPolicy.DropWrite, capacityJobs: 2);
        await run.Batcher.AddAsync(DurableHarness.Job(2));
        await run.Batcher.AddAsync(DurableHarness.Job(3));

        var letter = Assert.Single(run.Harness.DeadLetters);
        Assert.Equal(DeadLetterReason.Dropped, letter.Reason);
        Assert.Equal(3, letter.Job.Job.Number);
        Assert.Equal(2, run.Batcher.JournalCounters.LiveJobs);

        await run.ReleaseAsync();
        Assert.Equal([1, 2], run.Harness.Seen.Select(s => s.Job.Number));
    }

    [Fact]
    public async Task AddAsync_JournalFullWithDropOldest_DeadLettersTheOldestQueuedJobAndReleasesIt()
    {
        await using var run = await Held.StartAsync(OverflowPolicy.DropOldest, capacityJobs: 3);
        await run.Batcher.AddAsync(DurableHarness.Job(2));
        await run.Batcher.AddAsync(DurableHarness.Job(3));
        await run.Batcher.AddAsync(DurableHarness.Job(4));

        // Job 2 (the oldest not in a handler) left the journal at once; its dead letter comes when the batcher reaches it.
        Assert.Equal(3, run.Batcher.JournalCounters.LiveJobs);
        Assert.Equal(1, run.Batcher.JournalCounters.Released);

        await run.ReleaseAsync();
        Assert.Equal([1, 3, 4], run.Harness.Seen.Select(s => s.Job.Number));
        var letter = Assert.Single(run.Harness.DeadLetters);
        Assert.Equal(DeadLetterReason.Dropped, letter.Reason);
        Assert.Equal(2, letter.Job.Job.Number);
    }

    /// <summary>A batcher whose first handler call (job 1) is held open until <see cref="ReleaseAsync"/>.</summary>
    private sealed class Held : IAsyncDisposable
    {
        private readonly TempDirectory _dir = new();
        private readonly TaskCompletionSource _hold = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private Held()
        {
            Harness = new DurableHarness(_dir.Path);
        }

        public DurableHarness Harness { get; }

        public DurableBatcher<TestJob> Batcher { get; private set; } = null!;

        public static async Task<Held> StartAsync(OverflowPolicy policy, int capacityJobs)
        {
            var held = new Held();
            var options = held.Harness.Options(maxBatchSize: 1);
            options.OverflowPolicy = policy;
            options.MaxBufferedWeight = capacityJobs * JobBytes;
            options.MaxConcurrentBatches = 1;
            held.Batcher = new DurableBatcher<TestJob>(held.Harness.Recording((_, _) => new ValueTask(held._hold.Task)), options);
            held.Batcher.Start();
            await held.Batcher.AddAsync(DurableHarness.Job(1));
            await DurableHarness.Until(() => held.Harness.Seen.Count == 1);
            return held;
        }

        public async Task ReleaseAsync()
        {
            _hold.TrySetResult();
            await Batcher.FlushAsync().WaitAsync(HangGuard.Timeout);
        }

        public async ValueTask DisposeAsync()
        {
            _hold.TrySetResult();
            await Batcher.DisposeAsync();
            _dir.Dispose();
        }
    }
}
