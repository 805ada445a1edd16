namespace Tinybatch.Durable.Tests;

public sealed class JournalCommitTests
{
    [Fact]
    public async Task WaitForCommit_ManyConcurrentAppendsWhileAFlushRuns_OneMoreCommitCoversThemAll()
    {
        using var dir = new TempDirectory();
        using var gate = new ManualResetEventSlim();
        var files = new TestFileSystem();
        await using var journal = JournalHarness.Open(dir.Path, files: files);
        files.FlushGate = gate;

        // The first append's commit is held in its flush; the next 200 arrive meanwhile.
        var first = JournalHarness.AppendCommittedAsync(journal, "first");
        Assert.True(files.FlushWaiting.Wait(HangGuard.Timeout));
        var rest = Enumerable.Range(0, 200)
            .Select(i => Task.Run(() => JournalHarness.AppendCommittedAsync(journal, $"job {i}")))
            .ToArray();
        await Task.WhenAll(rest.Select(async t => { while (!t.IsCompleted && journal.Counters.Appended < 201) { await Task.Yield(); } }));
        Assert.Equal(201, journal.Counters.Appended);
        Assert.Equal(0, journal.Counters.Commits);

        gate.Set();
        await first;
        await Task.WhenAll(rest);

        // One commit for the first job, one for the 200 that arrived while it was being flushed.
        Assert.Equal(2, journal.Counters.Commits);
    }

    [Fact]
    public async Task Commit_DiskFull_FailsTheCoveredAddsWithAClearErrorAndLaterCommitsStillWork()
    {
        using var dir = new TempDirectory();
        var files = new TestFileSystem();
        var problems = new List<JournalProblem>();
        await using (var journal = JournalHarness.Open(dir.Path, problems, files))
        {
            long kept = await JournalHarness.AppendCommittedAsync(journal, "kept");
            files.FreeBytes = 10;

            var error = await Assert.ThrowsAsync<JournalWriteException>(() => JournalHarness.AppendCommittedAsync(journal, "lost to a full disk"));
            Assert.Contains("could not write", error.Message);
            Assert.Contains("No space left on device", error.Message);
            Assert.Equal(1, journal.Counters.WriteFailures);
            Assert.Equal(JournalProblemKind.WriteFailed, Assert.Single(problems).Kind);

            files.FreeBytes = null;
            await JournalHarness.AppendCommittedAsync(journal, "after");
        }

        // The partly written commit was cut off: recovery sees the jobs before and after it, and no damage.
        problems.Clear();
        await using var reopened = JournalHarness.Open(dir.Path, problems);
        Assert.Equal(["kept", "after"], reopened.Recovered.Select(JournalHarness.Text));
        Assert.Empty(problems);
    }

    [Fact]
    public async Task Release_EveryJobOfOlderSegments_DeletesThoseSegmentsAndKeepsDiskBounded()
    {
        using var dir = new TempDirectory();
        await using var journal = JournalHarness.Open(dir.Path, segmentBytes: 4096);
        string payload = new('x', 500);
        long maxDisk = 0;
        for (int i = 0; i < 200; i++)
        {
            long id = await JournalHarness.AppendCommittedAsync(journal, payload);
            journal.Release([id]);
            maxDisk = Math.Max(maxDisk, journal.Counters.DiskBytes);
        }

        await journal.WaitForCommitAsync(JournalHarness.Append(journal, "last").Ticket);
        var counters = journal.Counters;
        Assert.True(counters.SegmentsDeleted > 10, $"only {counters.SegmentsDeleted} segments deleted");
        Assert.True(maxDisk < 3 * 4096, $"disk grew to {maxDisk} bytes");
        Assert.True(dir.Segments().Length <= 3);
    }

    [Fact]
    public async Task Release_AnOldJobStillLive_IsCopiedForwardSoDiskStaysBoundedAndItIsRecoveredOnce()
    {
        using var dir = new TempDirectory();
        long held;
        long maxDisk = 0;
        await using (var journal = JournalHarness.Open(dir.Path, segmentBytes: 4096))
        {
            held = await JournalHarness.AppendCommittedAsync(journal, "held");
            await journal.WaitForCommitAsync(journal.AppendAttempts([(held, 2)]));
            for (int i = 0; i < 200; i++)
            {
                journal.Release([await JournalHarness.AppendCommittedAsync(journal, new string('y', 500))]);
                maxDisk = Math.Max(maxDisk, journal.Counters.DiskBytes);
            }

            Assert.True(journal.Counters.Relocated > 0);
            Assert.True(journal.Counters.SegmentsDeleted > 10);
        }

        // 200 jobs of about 520 bytes went through; one job stayed live the whole time.
        Assert.True(maxDisk < 6 * 4096, $"disk grew to {maxDisk} bytes");
        await using var reopened = JournalHarness.Open(dir.Path);
        var job = Assert.Single(reopened.Recovered);
        Assert.Equal(held, job.SequenceId);
        Assert.Equal("held", JournalHarness.Text(job));
        Assert.Equal(2, job.Attempts);
    }
}
