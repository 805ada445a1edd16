using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>
/// The buffer's two limits, the count <see cref="BatcherOptions.Capacity"/> and the weight budget
/// <see cref="BatcherOptions.MaxBufferedWeight"/>, hold together under every overflow policy; and a job heavier than
/// <see cref="BatcherOptions.MaxJobWeight"/> is refused with an exception that names its weight, the cap and the option.
/// </summary>
public class BufferLimitsTests
{
    private const int Capacity = 4;
    private const long Budget = 100;

    public static TheoryData<OverflowPolicy, string> PoliciesAndLimits()
    {
        var data = new TheoryData<OverflowPolicy, string>();
        foreach (OverflowPolicy policy in Enum.GetValues<OverflowPolicy>())
        {
            data.Add(policy, "count");
            data.Add(policy, "weight");
        }

        return data;
    }

    /// <summary>
    /// The buffer is full by count (four jobs of 10) or by weight (three jobs of 30, where a job of 50 would bring it to
    /// 140), and the batcher is not started, so nothing leaves it. A TryAdd then an AddAsync of a job of 50 meet the
    /// policy; whatever the policy does, neither limit is exceeded, and the jobs that reach the handler prove it.
    /// </summary>
    [Theory]
    [MemberData(nameof(PoliciesAndLimits))]
    public async Task Add_BufferFullByCountOrByWeight_PolicyAppliesAndBothLimitsHold(OverflowPolicy policy, string full)
    {
        var recorder = new Recorder<int>();
        var deadLetters = new List<DeadLetter<int>>();
        await using var batcher = new Batcher<int, int>(recorder.Echo, new BatcherOptions<int, int>
        {
            MaxBatchSize = Capacity,
            Capacity = Capacity,
            MaxBufferedWeight = Budget,
            Weigher = job => job % 1000,
            OverflowPolicy = policy,
            MaxBatchDelay = TimeSpan.Zero,
            TimeProvider = new FakeTimeProvider(),
            OnDeadLetter = d =>
            {
                lock (deadLetters)
                {
                    deadLetters.Add(d);
                }
            },
        });
        int[] first = full == "count" ? [1010, 2010, 3010, 4010] : [1030, 2030, 3030];
        foreach (int job in first)
        {
            Assert.True(batcher.TryAdd(job));
        }

        // Jobs of weight 50: 5050 by TryAdd, 6050 by AddAsync.
        bool tried = batcher.TryAdd(5050);
        Task added = batcher.AddAsync(6050).AsTask();
        Exception? addError = added.IsCompleted ? await Record.ExceptionAsync(() => added) : null;
        AssertWithinLimits(batcher);

        switch (policy)
        {
            case OverflowPolicy.Wait:
                Assert.False(tried);
                Assert.False(added.IsCompleted, "AddAsync should wait for room");
                break;
            case OverflowPolicy.Reject:
                Assert.False(tried);
                Assert.IsType<BatcherFullException>(addError);
                break;
            default:
                // DropWrite drops the new job; DropOldest evicts the oldest queued jobs, as many as the new one needs.
                Assert.Equal(policy == OverflowPolicy.DropOldest, tried);
                Assert.Null(addError);
                break;
        }

        batcher.Start();
        await added.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default).Guarded();
        await batcher.FlushAsync().Guarded();
        AssertWithinLimits(batcher);
        await batcher.StopAsync().Guarded();

        // Dead letters: a job refused or dropped at the door was never accepted; an evicted one was queued; neither was
        // sent. A TryAdd's refusal is not dead-lettered (its caller still holds the job); an AddAsync's is.
        JobStage dropStage = policy == OverflowPolicy.DropOldest ? JobStage.Queued : JobStage.NotAccepted;
        Assert.All(deadLetters, d => Assert.Equal((dropStage, 0), (d.Stage, d.Attempts)));
        bool refusedAtTheDoor = policy is OverflowPolicy.Reject or OverflowPolicy.DropWrite;
        Assert.Equal(refusedAtTheDoor ? [6050] : [], deadLetters.Where(d => d.Stage == JobStage.NotAccepted).Select(d => d.Job));

        // Every batch the handler saw came out of a buffer that held at most Capacity jobs and Budget weight.
        Assert.All(recorder.Batches, b => Assert.True(b.Length <= Capacity && b.Sum(j => j % 1000) <= Budget, $"batch [{string.Join(", ", b)}]"));
        BatcherCounters counters = batcher.Counters;
        Assert.Equal(counters.Accepted, counters.Succeeded + counters.Dropped);
        Assert.Equal(first.Length + 2, counters.Accepted + counters.Rejected);
    }

    /// <summary>A buffer full by weight, not by count: the refusal says which limit it met, not only the job count.</summary>
    [Theory]
    [InlineData(OverflowPolicy.Reject)]
    [InlineData(OverflowPolicy.DropWrite)]
    public async Task AddAndWaitAsync_BufferFullByWeight_RefusalNamesTheWeightBudget(OverflowPolicy policy)
    {
        using var batcher = new Batcher<int, int>((jobs, ct) => jobs, new BatcherOptions<int, int>
        {
            MaxBatchSize = Capacity,
            Capacity = Capacity,
            MaxBufferedWeight = Budget,
            Weigher = job => job,
            OverflowPolicy = policy,
            TimeProvider = new FakeTimeProvider(),
        });
        Assert.True(batcher.TryAdd(60));

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => batcher.AddAndWaitAsync(50).AsTask());

        Assert.Contains("MaxBufferedWeight", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TryAdd")]
    [InlineData("TryAddRange")]
    [InlineData("AddAsync")]
    [InlineData("AddAndWaitAsync")]
    public async Task Add_RecordOverMaxJobWeight_RefusedNamingItsWeightTheCapAndTheOption(string kind)
    {
        const long Kib = 1024;
        var deadLetters = new List<DeadLetter<long>>();
        await using var batcher = new Batcher<long, long>((jobs, ct) => jobs, new BatcherOptions<long, long>
        {
            MaxBatchSize = 500,
            MaxBatchWeight = 4 * Kib * Kib,
            MaxJobWeight = 1000 * Kib,
            Weigher = bytes => bytes,
            MaxBatchDelay = TimeSpan.Zero,
            TimeProvider = new FakeTimeProvider(),
            OnDeadLetter = deadLetters.Add,
        });
        batcher.Start();

        var error = await Assert.ThrowsAsync<JobTooHeavyException>(async () =>
        {
            switch (kind)
            {
                case "TryAdd":
                    batcher.TryAdd(1_024_001);
                    break;
                case "TryAddRange":
                    Assert.Fail($"accepted {batcher.TryAddRange([1_024_000, 1_024_001, 1])} jobs");
                    break;
                case "AddAsync":
                    await batcher.AddAsync(1_024_001);
                    break;
                default:
                    await batcher.AddAndWaitAsync(1_024_001);
                    break;
            }
        });

        Assert.Equal((1_024_001L, 1_024_000L, "MaxJobWeight"), (error.Weight, error.MaxWeight, error.LimitName));
        Assert.Contains("1024001", error.Message, StringComparison.Ordinal);
        Assert.Contains("1024000", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxJobWeight", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, batcher.Counters.Rejected);

        // The producer still holds the record, so it is not dead-lettered; a record at the cap is accepted.
        Assert.Empty(deadLetters);
        Assert.Equal(1_024_000L, await batcher.AddAndWaitAsync(1_024_000).Guarded());
        Assert.Equal(kind == "TryAddRange" ? 2 : 1, batcher.Counters.Accepted);
    }

    /// <summary>Without a tighter MaxJobWeight, the cap a job broke is the batch's or the buffer's, whichever is lower.</summary>
    [Theory]
    [InlineData(null, 4096L, long.MaxValue, 5000L, "MaxBatchWeight", 4096L)]
    [InlineData(null, 4096L, 2048L, 3000L, "MaxBufferedWeight", 2048L)]
    [InlineData(8192L, 4096L, long.MaxValue, 5000L, "MaxBatchWeight", 4096L)]
    [InlineData(1000L, 4096L, 2048L, 1001L, "MaxJobWeight", 1000L)]
    public void TryAdd_JobOverTheLowestCap_RefusalNamesThatCap(long? maxJob, long maxBatch, long maxBuffered, long weight, string limit, long cap)
    {
        using var batcher = new Batcher<long, long>((jobs, ct) => jobs, new BatcherOptions<long, long>
        {
            MaxJobWeight = maxJob,
            MaxBatchWeight = maxBatch,
            MaxBufferedWeight = maxBuffered,
            Weigher = bytes => bytes,
            TimeProvider = new FakeTimeProvider(),
        });

        var error = Assert.Throws<JobTooHeavyException>(() => batcher.TryAdd(weight));

        Assert.Equal((weight, cap, limit), (error.Weight, error.MaxWeight, error.LimitName));
        Assert.Contains(limit, error.Message, StringComparison.Ordinal);
        Assert.True(batcher.TryAdd(cap));
    }

    private static void AssertWithinLimits(Batcher<int, int> batcher)
    {
        Assert.InRange(batcher.Intake.PlacesInUse, 0, Capacity);
        Assert.InRange(batcher.Intake.WeightInUse, 0, Budget);
    }
}
