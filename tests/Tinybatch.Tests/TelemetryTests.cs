using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>
/// The job-outcome counter, <c>tinybatch.job.outcomes</c>: one instrument whose <c>tinybatch.job.outcome</c> attribute
/// says what became of the jobs, with <c>error.type</c> on failures, as ASP.NET Core's rate-limiting counter does. A batch
/// records each outcome kind once (failures once per job, each with its own error type); a refusal, a drop or a
/// cancellation records once. Whatever the path, each outcome's total equals the batcher's own counter.
/// </summary>
[Collection(NonParallel.Name)]
public sealed class TelemetryTests : IDisposable
{
    private const string NameTag = "tinybatch.batcher.name";
    private const string OutcomeTag = "tinybatch.job.outcome";
    private const string ErrorTypeTag = "error.type";

    private readonly TestMeterFactory _meters = new();
    private readonly MetricCollector<long> _outcomes;

    public TelemetryTests() => _outcomes = new(_meters, TinybatchTelemetry.MeterName, "tinybatch.job.outcomes");

    public void Dispose()
    {
        _outcomes.Dispose();
        _meters.Dispose();
    }

    [Fact]
    public async Task Outcomes_HandlerCompletesSomeJobsAndFailsOthers_OneSucceededPerBatchAndOneFailedPerJobWithItsErrorType()
    {
        await using var batcher = NewBatcher(
            (batch, ct) =>
            {
                batch.SetResult(0, 0);
                batch.Fail(1, new FormatException("bad record"));
                batch.SetResult(2, 2);
                batch.Fail(3, new TimeoutException("slow sink"));
                return default;
            },
            o => o.MaxBatchSize = 4);
        AddAll(batcher, 4);

        batcher.Start();
        await batcher.FlushAsync().Guarded();

        Assert.Equal(
            [("succeeded", 2L, null), ("failed", 1L, "System.FormatException"), ("failed", 1L, "System.TimeoutException")],
            Recorded().OrderBy(m => m.Outcome == "failed").ThenBy(m => m.ErrorType));
        AssertMatchesCounters(batcher);
    }

    [Fact]
    public async Task Outcomes_HandlerThrows_EveryJobFailedWithTheExceptionsFullTypeName()
    {
        await using var batcher = NewBatcher((batch, ct) => throw new TimeoutException("sink down"), o => o.MaxBatchSize = 3);
        AddAll(batcher, 3);

        batcher.Start();
        await batcher.FlushAsync().Guarded();

        Assert.Equal(Enumerable.Repeat(("failed", 1L, (string?)"System.TimeoutException"), 3), Recorded());
        AssertMatchesCounters(batcher);
    }

    [Fact]
    public async Task Outcomes_CallerCancelsAQueuedJob_OneCanceledWithoutErrorType()
    {
        await using var batcher = NewBatcher(SucceedAll);
        using var cancel = new CancellationTokenSource();
        Task<int> waiting = batcher.AddAndWaitAsync(1, cancel.Token).AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.Guarded());
        Assert.Equal([("canceled", 1L, null)], Recorded());
        AssertMatchesCounters(batcher);
    }

    [Fact]
    public async Task Outcomes_AddsRefused_OneRejectedPerRefusal()
    {
        await using var batcher = NewBatcher(SucceedAll, o =>
        {
            o.Capacity = o.MaxBatchSize = 2;
            o.OverflowPolicy = OverflowPolicy.Reject;
            o.Weigher = job => job;
            o.MaxJobWeight = 10;
        });
        Assert.True(batcher.TryAdd(1));
        Assert.True(batcher.TryAdd(1));

        Assert.False(batcher.TryAdd(1));                                                    // full
        await Assert.ThrowsAsync<BatcherFullException>(() => batcher.AddAsync(1).Guarded()); // full, Reject
        Assert.Throws<JobTooHeavyException>(() => batcher.TryAdd(11));                       // too heavy
        await batcher.StopAsync().Guarded();
        Assert.False(batcher.TryAdd(1));                                                    // stopped
        await Assert.ThrowsAsync<BatcherStoppedException>(() => batcher.AddAsync(1).Guarded());

        Assert.Equal(5, Sum("rejected"));
        Assert.All(Recorded().Where(m => m.Outcome == "rejected"), m => Assert.Null(m.ErrorType));
        AssertMatchesCounters(batcher);
    }

    [Fact]
    public async Task Outcomes_StopRefusesAddsWaitingForSpace_RejectedCountsEveryWaitingAdd()
    {
        await using var batcher = NewBatcher(SucceedAll, o => o.Capacity = o.MaxBatchSize = 1);
        Assert.True(batcher.TryAdd(1));
        Task waiting = batcher.AddAsync(2).AsTask();
        Task<int> waitingForResult = batcher.AddAndWaitAsync(3).AsTask();
        Assert.False(waiting.IsCompleted || waitingForResult.IsCompleted);

        await batcher.StopAsync().Guarded();

        await Assert.ThrowsAsync<BatcherStoppedException>(() => waiting.Guarded());
        await Assert.ThrowsAsync<BatcherStoppedException>(() => waitingForResult.Guarded());
        Assert.Equal([("rejected", 2L, null), ("succeeded", 1L, null)], Recorded().Order());
        AssertMatchesCounters(batcher);
    }

    [Fact]
    public async Task Outcomes_DropOldestEvictsQueuedJobs_OneDroppedPerEvictedJob()
    {
        await using var batcher = NewBatcher(SucceedAll, o =>
        {
            o.Capacity = o.MaxBatchSize = 2;
            o.OverflowPolicy = OverflowPolicy.DropOldest;
        });

        AddAll(batcher, 5);

        Assert.Equal([("dropped", 1L, null), ("dropped", 1L, null), ("dropped", 1L, null)], Recorded());
        AssertMatchesCounters(batcher);
    }

    /// <summary>
    /// <see cref="OverflowPolicy.DropWrite"/> refuses the new job: it was never accepted, so it is a refusal, whether the
    /// add was a <c>TryAdd</c> or an <c>AddAsync</c>, as the batcher's counters say.
    /// </summary>
    [Fact]
    public async Task Outcomes_DropWriteRefusesTheNewJob_RejectedWhateverTheAdd()
    {
        await using var batcher = NewBatcher(SucceedAll, o =>
        {
            o.Capacity = o.MaxBatchSize = 1;
            o.OverflowPolicy = OverflowPolicy.DropWrite;
        });
        Assert.True(batcher.TryAdd(1));

        Assert.False(batcher.TryAdd(2));
        await batcher.AddAsync(3).Guarded();
        await Assert.ThrowsAsync<JobDroppedException>(() => batcher.AddAndWaitAsync(4).Guarded());

        Assert.Equal([("rejected", 1L, null), ("rejected", 1L, null), ("rejected", 1L, null)], Recorded());
        AssertMatchesCounters(batcher);
    }

    [Fact]
    public async Task Outcomes_HandlerRetriesAJob_RetriedThenSucceeded()
    {
        var handler = new RetryFirstCall(result: 7);
        await using var batcher = NewBatcher(handler.Handle, o => o.MaxBatchSize = 1);
        batcher.Start();

        Assert.Equal(7, await batcher.AddAndWaitAsync(1).Guarded());
        await batcher.FlushAsync().Guarded();

        Assert.Equal([("retried", 1L, null), ("succeeded", 1L, null)], Recorded());
        AssertMatchesCounters(batcher);
    }

    [Fact]
    public async Task Outcomes_StopDeadlineExpires_QueuedAndRunningJobsFailedWithBatcherStoppedException()
    {
        var gate = new HandlerGate();
        await using var batcher = NewBatcher(
            async (batch, ct) =>
            {
                await gate.PassAsync();
                batch.SetResults([.. batch]);
            },
            o => o.MaxBatchSize = 2);
        Task<int>[] results = [.. Enumerable.Range(0, 4).Select(i => batcher.AddAndWaitAsync(i).AsTask())];
        batcher.Start();
        await gate.WhenEnteredAsync(1);

        await batcher.StopAsync(new CancellationToken(canceled: true)).Guarded();
        gate.Open();

        foreach (Task<int> result in results)
        {
            await Assert.ThrowsAsync<BatcherStoppedException>(() => result.Guarded());
        }

        Assert.Equal(4, Sum("failed"));
        Assert.All(Recorded(), m => Assert.Equal(("failed", typeof(BatcherStoppedException).FullName), (m.Outcome, m.ErrorType)));
        AssertMatchesCounters(batcher);
    }

    [Fact]
    public async Task Outcomes_TwoBatchers_EachMeasurementCarriesItsBatchersName()
    {
        await using var alpha = NewBatcher(SucceedAll, o => o.Name = "alpha");
        await using var beta = NewBatcher(SucceedAll, o => o.Name = "beta");
        AddAll(alpha, 1);
        AddAll(beta, 2);

        alpha.Start();
        beta.Start();
        await Task.WhenAll(alpha.FlushAsync(), beta.FlushAsync()).Guarded();

        Assert.Equal(
            [("alpha", 1L), ("beta", 2L)],
            _outcomes.GetMeasurementSnapshot().Select(m => ((string)m.Tags[NameTag]!, m.Value)).Order());
    }

    private static ValueTask SucceedAll(Batch<int, int> batch, CancellationToken cancellationToken)
    {
        batch.SetResults([.. batch]);
        return default;
    }

    private static void AddAll(Batcher<int, int> batcher, int count)
    {
        for (int i = 0; i < count; i++)
        {
            Assert.True(batcher.TryAdd(i));
        }
    }

    private Batcher<int, int> NewBatcher(Func<Batch<int, int>, CancellationToken, ValueTask> handler, Action<BatcherOptions<int, int>>? configure = null)
    {
        var options = new BatcherOptions<int, int>
        {
            Name = "outcomes",
            MaxBatchDelay = Timeout.InfiniteTimeSpan,
            TimeProvider = new FakeTimeProvider(),
            MeterFactory = _meters,
        };
        configure?.Invoke(options);
        return new Batcher<int, int>(handler, options);
    }

    /// <summary>Every measurement so far, in order, as (outcome, value, error type); each must carry its batcher's name.</summary>
    private List<(string Outcome, long Value, string? ErrorType)> Recorded() =>
        [.. _outcomes.GetMeasurementSnapshot().Select(m =>
        {
            Assert.IsType<string>(m.Tags[NameTag]);
            return ((string)m.Tags[OutcomeTag]!, m.Value, m.Tags.TryGetValue(ErrorTypeTag, out object? type) ? (string?)type : null);
        })];

    private long Sum(string outcome) => Recorded().Where(m => m.Outcome == outcome).Sum(m => m.Value);

    private void AssertMatchesCounters<TJob, TResult>(Batcher<TJob, TResult> batcher)
    {
        BatcherCounters c = batcher.Counters;
        Assert.Equal(
            (c.Succeeded, c.Failed, c.Canceled, c.Rejected, c.Dropped, c.Retried),
            (Sum("succeeded"), Sum("failed"), Sum("canceled"), Sum("rejected"), Sum("dropped"), Sum("retried")));
    }
}
