namespace Tinybatch.Durable.Tests;

public sealed class DurableBatcherLifecycleTests
{
    [Fact]
    public async Task TryAdd_Running_AcceptsAndTheJobIsDurableAfterFlush_StoppedReturnsFalse()
    {
        using var dir = new TempDirectory();
        var harness = new DurableHarness(dir.Path);
        var batcher = new DurableBatcher<TestJob>(harness.Recording(), harness.Options());
        batcher.Start();
        Assert.True(batcher.TryAdd(DurableHarness.Job(1)));
        Assert.Equal(1, batcher.TryAddRange([DurableHarness.Job(2)]));
        await batcher.FlushAsync();
        Assert.Equal([1, 2], harness.Seen.Select(s => s.Job.Number).Order());
        Assert.Equal(0, batcher.JournalCounters.LiveJobs);

        await batcher.StopAsync();
        Assert.False(batcher.TryAdd(DurableHarness.Job(3)));
        await Assert.ThrowsAsync<BatcherStoppedException>(() => batcher.AddAsync(DurableHarness.Job(4)).AsTask());
    }

    [Fact]
    public async Task AddAsync_BeforeStartWithRecoveredJobs_ComesAfterThem()
    {
        using var dir = new TempDirectory();
        var first = new DurableHarness(dir.Path);
        var run1 = new DurableBatcher<TestJob>(first.Recording((b, i) => { b.Retry(i); return ValueTask.CompletedTask; }), first.Options());
        run1.Start();
        await run1.AddAsync(DurableHarness.Job(1));
        await run1.AddAsync(DurableHarness.Job(2));
        await DurableHarness.Until(() => first.Seen.Count == 2);
        await run1.CommitForTestAsync();
        await run1.SimulateCrashAsync();

        var second = new DurableHarness(dir.Path);
        await using var run2 = new DurableBatcher<TestJob>(second.Recording(), second.Options());
        var early = run2.AddAsync(DurableHarness.Job(3)).AsTask();
        Assert.False(early.IsCompleted);
        run2.Start();
        await early;
        await run2.FlushAsync();
        Assert.Equal([1, 2, 3], second.Seen.Select(s => s.Job.Number));
    }

    [Fact]
    public async Task Dispose_WithJobsInAHandler_KeepsThemJournalledForTheNextStart()
    {
        using var dir = new TempDirectory();
        var first = new DurableHarness(dir.Path);
        var hang = new TaskCompletionSource();
        var run1 = new DurableBatcher<TestJob>(first.Recording((_, _) => new ValueTask(hang.Task)), first.Options());
        run1.Start();
        await run1.AddAsync(DurableHarness.Job(5));
        await DurableHarness.Until(() => !first.Seen.IsEmpty);
        run1.Dispose();
        await DurableHarness.Until(() => run1.Completion.IsCompleted);
        hang.SetResult();

        var second = new DurableHarness(dir.Path);
        await using var run2 = new DurableBatcher<TestJob>(second.Recording(), second.Options());
        Assert.Equal(1, run2.RecoveredCount);
        run2.Start();
        await run2.FlushAsync();
        Assert.Equal(5, Assert.Single(second.Seen).Job.Number);
    }
}
