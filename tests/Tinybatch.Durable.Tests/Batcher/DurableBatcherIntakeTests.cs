using System.Buffers;
using System.Text;

namespace Tinybatch.Durable.Tests;

public sealed class DurableBatcherIntakeTests
{
    [Fact]
    public async Task AddAsync_BeforeItsCommitIsWritten_DoesNotComplete()
    {
        using var dir = new TempDirectory();
        using var gate = new ManualResetEventSlim();
        var files = new TestFileSystem();
        var harness = new DurableHarness(dir.Path);
        var options = harness.Options(maxBatchSize: 100, files: files);
        options.MaxBatchDelay = TimeSpan.FromHours(1); // no batch before the test flushes: only the adds commit
        await using var batcher = new DurableBatcher<TestJob>(harness.Recording(), options);
        batcher.Start();
        files.FlushGate = gate;

        var adds = Enumerable.Range(0, 50).Select(n => batcher.AddAsync(DurableHarness.Job(n)).AsTask()).ToArray();
        Assert.True(files.FlushWaiting.Wait(HangGuard.Timeout));
        Assert.All(adds, a => Assert.False(a.IsCompleted));
        Assert.Empty(harness.Seen);

        gate.Set();
        await Task.WhenAll(adds);

        // 50 adds, at most two commits: the one held at the gate, and one for every add made meanwhile.
        Assert.InRange(batcher.JournalCounters.Commits, 1, 2);
        Assert.Equal(50, batcher.JournalCounters.Appended);
        await batcher.FlushAsync();
        Assert.Equal(50, harness.Seen.Count);
    }

    [Fact]
    public async Task Outcomes_SuccessFailureAndDeadLetter_ReleaseEveryJobFromTheJournal()
    {
        using var dir = new TempDirectory();
        var harness = new DurableHarness(dir.Path);
        await using var batcher = new DurableBatcher<TestJob>(
            harness.Recording((b, i) =>
            {
                if (b[i].Job.Number % 3 == 1)
                {
                    b.Fail(i, new InvalidOperationException("bad row"));
                }

                return ValueTask.CompletedTask;
            }),
            harness.Options());
        batcher.Start();
        for (int n = 0; n < 30; n++)
        {
            await batcher.AddAsync(DurableHarness.Job(n));
        }

        await batcher.FlushAsync();
        Assert.Equal(10, harness.DeadLetters.Count);
        Assert.All(harness.DeadLetters, d => Assert.True(d.Job.SequenceId > 0));
        var counters = batcher.JournalCounters;
        Assert.Equal(30, counters.Appended);
        Assert.Equal(30, counters.Released);
        Assert.Equal(0, counters.LiveJobs);
        Assert.Equal(0, counters.LiveBytes);
    }

    [Fact]
    public async Task AddAsync_DiskFull_ThrowsAClearErrorAndTheJobNeverReachesTheHandler()
    {
        using var dir = new TempDirectory();
        var files = new TestFileSystem();
        var harness = new DurableHarness(dir.Path);
        await using var batcher = new DurableBatcher<TestJob>(harness.Recording(), harness.Options(files: files));
        batcher.Start();
        await batcher.AddAsync(DurableHarness.Job(1));
        await batcher.FlushAsync();
        files.FreeBytes = 5;

        var error = await Assert.ThrowsAsync<JournalWriteException>(() => batcher.AddAsync(DurableHarness.Job(2)).AsTask());
        Assert.Contains("No space left on device", error.Message);
        files.FreeBytes = null;
        await batcher.AddAsync(DurableHarness.Job(3));
        await batcher.FlushAsync();

        Assert.Equal([1, 3], harness.Seen.Select(s => s.Job.Number));
        Assert.InRange(batcher.JournalCounters.WriteFailures, 1, 2); // the failed add, and perhaps its release record
        Assert.Equal(0, batcher.JournalCounters.LiveJobs);
        Assert.NotEmpty(harness.Problems);
        Assert.All(harness.Problems, p => Assert.Equal(JournalProblemKind.WriteFailed, p.Kind));
    }

    [Fact]
    public async Task Serializer_Custom_IsUsedToJournalAndToReplay()
    {
        using var dir = new TempDirectory();
        var serializer = new PipeSerializer();
        var first = new DurableHarness(dir.Path);
        var options = first.Options();
        options.JsonTypeInfo = null;
        options.Serializer = serializer;
        var run1 = new DurableBatcher<TestJob>(first.Recording((b, i) => { b.Retry(i); return ValueTask.CompletedTask; }), options);
        run1.Start();
        await run1.AddAsync(new TestJob(42, "answer"));
        await DurableHarness.Until(() => !first.Seen.IsEmpty);
        await run1.CommitForTestAsync(); // the first attempt's record is committed with the next commit
        await run1.SimulateCrashAsync();
        Assert.Contains(dir.Segments(), s => Encoding.UTF8.GetString(File.ReadAllBytes(s)).Contains("42|answer", StringComparison.Ordinal));

        var second = new DurableHarness(dir.Path);
        var options2 = second.Options();
        options2.Serializer = serializer;
        await using var run2 = new DurableBatcher<TestJob>(second.Recording(), options2);
        run2.Start();
        await run2.FlushAsync();
        Assert.Equal(new TestJob(42, "answer"), Assert.Single(second.Seen).Job);
        Assert.True(serializer.Reads >= 1);
    }

    [Fact]
    public async Task Start_AJobTheSerializerCannotRead_IsReportedCountedAndNotReplayed()
    {
        using var dir = new TempDirectory();
        var first = new DurableHarness(dir.Path);
        var run1 = new DurableBatcher<TestJob>(first.Recording((b, i) => { b.Retry(i); return ValueTask.CompletedTask; }), first.Options());
        run1.Start();
        await run1.AddAsync(DurableHarness.Job(1));
        await DurableHarness.Until(() => !first.Seen.IsEmpty);
        await run1.CommitForTestAsync(); // the first attempt's record is committed with the next commit
        await run1.SimulateCrashAsync();

        var second = new DurableHarness(dir.Path);
        var options = second.Options();
        options.Serializer = new PipeSerializer(); // cannot read JSON
        await using var run2 = new DurableBatcher<TestJob>(second.Recording(), options);
        run2.Start();
        await run2.FlushAsync();
        Assert.Empty(second.Seen);
        Assert.Equal(JournalProblemKind.Undeserializable, Assert.Single(second.Problems).Kind);
        Assert.Equal(1, run2.JournalCounters.Undeserializable);
        Assert.Equal(0, run2.JournalCounters.LiveJobs);
    }

    [Fact]
    public void Constructor_NoDirectoryNoSerializer_NamesBothProblems()
    {
        var error = Assert.Throws<ArgumentException>(() => new DurableBatcher<TestJob>((_, _) => ValueTask.CompletedTask, new DurableBatcherOptions<TestJob>()));
        Assert.Contains("Directory", error.Message);
        Assert.Contains("JsonTypeInfo", error.Message);
    }

    private sealed class PipeSerializer : IJobSerializer<TestJob>
    {
        private int _reads;

        public int Reads => _reads;

        public void Serialize(TestJob job, IBufferWriter<byte> destination) =>
            Encoding.UTF8.GetBytes($"{job.Number}|{job.Text}", destination);

        public TestJob Deserialize(ReadOnlySpan<byte> data)
        {
            Interlocked.Increment(ref _reads);
            string[] parts = Encoding.UTF8.GetString(data).Split('|');
            return new TestJob(int.Parse(parts[1 - 1], System.Globalization.CultureInfo.InvariantCulture), parts[1]);
        }
    }
}
