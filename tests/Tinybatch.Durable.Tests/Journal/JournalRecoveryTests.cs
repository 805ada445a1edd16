using Tinybatch.Durable.Internal;

namespace Tinybatch.Durable.Tests;

public sealed class JournalRecoveryTests
{
    [Fact]
    public async Task Open_AfterUnfinishedJobs_RecoversThemInSequenceOrderWithAttempts()
    {
        using var dir = new TempDirectory();
        await using (var journal = JournalHarness.Open(dir.Path))
        {
            long a = await JournalHarness.AppendCommittedAsync(journal, "a");
            long b = await JournalHarness.AppendCommittedAsync(journal, "b");
            long c = await JournalHarness.AppendCommittedAsync(journal, "c", attempts: 2);
            await journal.WaitForCommitAsync(journal.AppendAttempts([(a, 1), (c, 3)]));
            journal.Release([b]);
        }

        await using var reopened = JournalHarness.Open(dir.Path);
        var recovered = reopened.Recovered;
        Assert.Equal(["a", "c"], recovered.Select(JournalHarness.Text));
        Assert.Equal([1, 3], recovered.Select(r => r.Attempts));
        Assert.True(recovered[0].SequenceId < recovered[1].SequenceId);
        Assert.Equal(2, reopened.Counters.Recovered);
        Assert.Equal(0, reopened.Counters.CorruptionsDetected);
    }

    [Fact]
    public async Task Open_AfterEveryJobReleased_RecoversNothing()
    {
        using var dir = new TempDirectory();
        await using (var journal = JournalHarness.Open(dir.Path))
        {
            long a = await JournalHarness.AppendCommittedAsync(journal, "a");
            long b = await JournalHarness.AppendCommittedAsync(journal, "b");
            journal.Release([a, b]);
        }

        await using var reopened = JournalHarness.Open(dir.Path);
        Assert.Empty(reopened.Recovered);
    }

    [Fact]
    public async Task NextSequenceId_AfterEverySegmentWithJobsWasDeleted_IsNeverReused()
    {
        using var dir = new TempDirectory();
        long last = 0;
        await using (var journal = JournalHarness.Open(dir.Path))
        {
            for (int i = 0; i < 5; i++)
            {
                last = await JournalHarness.AppendCommittedAsync(journal, "x");
                journal.Release([last]);
            }
        }

        // Two more runs, each deleting the previous run's (finished) segments.
        for (int run = 0; run < 2; run++)
        {
            await using var journal = JournalHarness.Open(dir.Path);
            long next = await JournalHarness.AppendCommittedAsync(journal, "y");
            Assert.True(next > last, $"sequence id {next} reused (last handed out: {last})");
            journal.Release([next]);
            last = next;
        }
    }

    [Fact]
    public async Task Open_FileCutMidRecord_ReportsTornTailAndRecoversTheWholeRecordsBeforeIt()
    {
        using var dir = new TempDirectory();
        await using (var journal = JournalHarness.Open(dir.Path))
        {
            await JournalHarness.AppendCommittedAsync(journal, "first");
            await JournalHarness.AppendCommittedAsync(journal, "second-which-will-be-torn");
        }

        string segment = dir.Segments()[^1];
        long length = new FileInfo(segment).Length;
        using (var file = File.OpenWrite(segment))
        {
            file.SetLength(length - 5);
        }

        var problems = new List<JournalProblem>();
        await using (var reopened = JournalHarness.Open(dir.Path, problems))
        {
            Assert.Equal(["first"], reopened.Recovered.Select(JournalHarness.Text));
            var problem = Assert.Single(problems);
            Assert.Equal(JournalProblemKind.TornTail, problem.Kind);
            Assert.Equal(segment, problem.Path);
            Assert.Equal(1, reopened.Counters.CorruptionsDetected);
            Assert.True(reopened.Counters.BytesDiscarded > 0);
        }

        // The tail was cut off, so a second recovery finds nothing to report.
        problems.Clear();
        await using var again = JournalHarness.Open(dir.Path, problems);
        Assert.Equal(["first"], again.Recovered.Select(JournalHarness.Text));
        Assert.Empty(problems);
    }

    [Fact]
    public async Task Open_GarbageAfterTheLastRecord_ReportsItAndNeverReplaysIt()
    {
        using var dir = new TempDirectory();
        await using (var journal = JournalHarness.Open(dir.Path))
        {
            await JournalHarness.AppendCommittedAsync(journal, "kept");
        }

        string segment = dir.Segments()[^1];
        var garbage = new byte[300];
        new Random(17).NextBytes(garbage);
        garbage[0] = 40; // a plausible length, so only the checksum can tell
        garbage[1] = garbage[2] = garbage[3] = 0;
        using (var file = new FileStream(segment, FileMode.Append))
        {
            file.Write(garbage);
        }

        var problems = new List<JournalProblem>();
        await using var reopened = JournalHarness.Open(dir.Path, problems);
        Assert.Equal(["kept"], reopened.Recovered.Select(JournalHarness.Text));
        var problem = Assert.Single(problems);
        Assert.Equal(JournalProblemKind.CorruptRecord, problem.Kind);
        Assert.Equal(300, problem.Bytes);
    }

    [Fact]
    public async Task Open_FlippedByteInsideARecord_CutsFromThereAndCountsIt()
    {
        using var dir = new TempDirectory();
        await using (var journal = JournalHarness.Open(dir.Path))
        {
            await JournalHarness.AppendCommittedAsync(journal, "one");
            await JournalHarness.AppendCommittedAsync(journal, "two");
            await JournalHarness.AppendCommittedAsync(journal, "three");
        }

        string segment = dir.Segments().First(s => new FileInfo(s).Length > RecordFormat.SegmentHeaderSize);
        byte[] data = File.ReadAllBytes(segment);
        int second = RecordFormat.SegmentHeaderSize + RecordFormat.RecordHeaderSize + RecordFormat.JobBodyPrefix + 3;
        data[second + 20] ^= 0xFF; // inside the second record's payload
        File.WriteAllBytes(segment, data);

        var problems = new List<JournalProblem>();
        await using var reopened = JournalHarness.Open(dir.Path, problems);
        Assert.Equal(["one"], reopened.Recovered.Select(JournalHarness.Text));
        Assert.Equal(JournalProblemKind.CorruptRecord, Assert.Single(problems).Kind);
    }

    [Fact]
    public async Task Open_SegmentShorterThanItsHeader_SetsItAsideAndReportsIt()
    {
        using var dir = new TempDirectory();
        await using (var journal = JournalHarness.Open(dir.Path))
        {
            await JournalHarness.AppendCommittedAsync(journal, "kept");
        }

        File.WriteAllBytes(Path.Combine(dir.Path, "000000000099.tbj"), [1, 2, 3]);
        var problems = new List<JournalProblem>();
        await using var reopened = JournalHarness.Open(dir.Path, problems);
        Assert.Equal(["kept"], reopened.Recovered.Select(JournalHarness.Text));
        Assert.Equal(JournalProblemKind.TornTail, Assert.Single(problems).Kind);
        Assert.True(File.Exists(Path.Combine(dir.Path, "000000000099.tbj.corrupt")));
    }
}
