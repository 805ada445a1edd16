namespace Tinybatch.Durable.Tests;

public sealed class DurableBatcherRecoveryTests
{
    [Fact]
    public async Task Start_AfterACrashWithJobsWaitingForRetry_ReplaysThemFirstInOrderWithTheirAttempts()
    {
        using var dir = new TempDirectory();
        var first = new DurableHarness(dir.Path);
        var run1 = new DurableBatcher<TestJob>(first.Recording((b, i) => { b.Retry(i); return ValueTask.CompletedTask; }), first.Options());
        run1.Start();
        for (int n = 0; n < 5; n++)
        {
            await run1.AddAsync(DurableHarness.Job(n));
        }

        await DurableHarness.Until(() => first.Seen.Count == 5);
        await run1.CommitForTestAsync(); // the first attempt's record is committed with the next commit
        await run1.SimulateCrashAsync();

        var second = new DurableHarness(dir.Path);
        await using var run2 = new DurableBatcher<TestJob>(second.Recording(), second.Options());
        Assert.Equal(5, run2.RecoveredCount);
        run2.Start();
        await run2.AddAsync(DurableHarness.Job(99));
        await run2.FlushAsync();

        var seen = second.Seen.ToArray();
        Assert.Equal([0, 1, 2, 3, 4, 99], seen.Select(s => s.Job.Number));
        Assert.Equal(first.Seen.Select(s => s.SequenceId), seen.Take(5).Select(s => s.SequenceId));
        Assert.All(seen.Take(5), s => Assert.Equal(2, s.Attempt));
        Assert.Equal(1, seen[5].Attempt);
        Assert.True(seen[5].SequenceId > seen[4].SequenceId);
        Assert.Equal(0, run2.JournalCounters.LiveJobs);
    }

    [Fact]
    public async Task Start_AJobThatWasInAHandlerAtEveryCrash_IsFailedOnceItsAttemptsAreUsed()
    {
        using var dir = new TempDirectory();
        for (int run = 1; run <= 3; run++)
        {
            var harness = new DurableHarness(dir.Path);
            var hang = new TaskCompletionSource();
            var options = harness.Options();
            options.Retry = new RetryPolicy { MaxAttempts = 2 };
            var batcher = new DurableBatcher<TestJob>(harness.Recording((_, _) => new ValueTask(hang.Task)), options);
            batcher.Start();
            if (run == 1)
            {
                await batcher.AddAsync(DurableHarness.Job(7));
            }

            if (run < 3)
            {
                // The handler "kills the process" every time it sees the job.
                await DurableHarness.Until(() => !harness.Seen.IsEmpty);
                Assert.Equal(run, Assert.Single(harness.Seen).Attempt);
                await batcher.CommitForTestAsync();
                await batcher.SimulateCrashAsync();
                continue;
            }

            await batcher.FlushAsync().WaitAsync(HangGuard.Timeout);
            Assert.Empty(harness.Seen);
            var letter = Assert.Single(harness.DeadLetters);
            Assert.Equal(DeadLetterReason.Failed, letter.Reason);
            Assert.Equal(7, letter.Job.Job.Number);
            Assert.Contains("attempts", letter.Exception.Message);
            Assert.Equal(0, batcher.JournalCounters.LiveJobs);
            await batcher.DisposeAsync();
        }
    }

    [Fact]
    public async Task StopAsync_RightAfterStartWithRecoveredJobs_HandsThemAllToTheHandlerFirst()
    {
        using var dir = new TempDirectory();
        var first = new DurableHarness(dir.Path);
        var run1 = new DurableBatcher<TestJob>(first.Recording((b, i) => { b.Retry(i); return ValueTask.CompletedTask; }), first.Options());
        run1.Start();
        for (int n = 0; n < 30; n++)
        {
            await run1.AddAsync(DurableHarness.Job(n));
        }

        await DurableHarness.Until(() => first.Seen.Count == 30);
        await run1.CommitForTestAsync();
        await run1.SimulateCrashAsync();

        var second = new DurableHarness(dir.Path);
        var run2 = new DurableBatcher<TestJob>(second.Recording(), second.Options());
        run2.Start();
        await run2.StopAsync();
        Assert.Equal(Enumerable.Range(0, 30), second.Seen.Select(s => s.Job.Number));
        Assert.Equal(0, run2.JournalCounters.LiveJobs);
    }

    [Fact]
    public async Task Start_AfterAGracefulStop_ReplaysNothing()
    {
        using var dir = new TempDirectory();
        var harness = new DurableHarness(dir.Path);
        await using (var batcher = new DurableBatcher<TestJob>(harness.Recording(), harness.Options()))
        {
            batcher.Start();
            for (int n = 0; n < 20; n++)
            {
                await batcher.AddAsync(DurableHarness.Job(n));
            }
        }

        Assert.Equal(20, harness.Seen.Count);
        await using var again = new DurableBatcher<TestJob>(harness.Recording(), harness.Options());
        Assert.Equal(0, again.RecoveredCount);
    }

    [Fact]
    public async Task Start_AfterACrashWithATornTail_ReportsItAndReplaysOnlyWholeJobs()
    {
        using var dir = new TempDirectory();
        var first = new DurableHarness(dir.Path);
        var hang = new TaskCompletionSource();
        var run1 = new DurableBatcher<TestJob>(first.Recording((_, _) => new ValueTask(hang.Task)), first.Options(maxBatchSize: 1));
        run1.Start();
        await run1.AddAsync(DurableHarness.Job(1));
        await run1.AddAsync(DurableHarness.Job(2));
        await run1.CommitForTestAsync(); // the first attempt's record is committed with the next commit
        await run1.SimulateCrashAsync();
        string tail = dir.Segments()[^1];
        File.AppendAllText(tail, "{\"half a rec");

        var second = new DurableHarness(dir.Path);
        await using var run2 = new DurableBatcher<TestJob>(second.Recording(), second.Options());
        run2.Start();
        await run2.FlushAsync();
        Assert.Equal([1, 2], second.Seen.Select(s => s.Job.Number));
        Assert.Single(second.Problems);
        Assert.Equal(1, run2.JournalCounters.CorruptionsDetected);
    }
}
