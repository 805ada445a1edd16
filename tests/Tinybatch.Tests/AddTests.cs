using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>Contract point 4: fire-and-forget versus add-and-await, and the completion callback.</summary>
public class AddTests
{
    private static BatcherOptions<int, int> SizeOnly(int size) =>
        new() { MaxBatchSize = size, MaxBatchDelay = Timeout.InfiniteTimeSpan, TimeProvider = new FakeTimeProvider() };

    [Fact]
    public async Task AddAsync_Accepted_CompletesBeforeTheBatchIsProcessed()
    {
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(recorder.Echo, SizeOnly(10));
        batcher.Start();

        Task added = batcher.AddAsync(1).AsTask();

        Assert.True(added.IsCompletedSuccessfully);
        await added;
        await batcher.IdleAsync();
        Assert.Equal(0, recorder.BatchCount);
        Assert.Equal(1, batcher.Counters.Accepted);
    }

    [Fact]
    public async Task TryAdd_Accepted_ReturnsTrueBeforeTheBatchIsProcessed()
    {
        var gate = new HandlerGate();
        await using var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                await gate.PassAsync();
                return jobs;
            },
            SizeOnly(1));
        batcher.Start();

        Assert.True(batcher.TryAdd(1));
        await gate.WhenEnteredAsync(1);
        Assert.True(batcher.TryAdd(2));

        Assert.Equal(0, batcher.Counters.Succeeded);
        gate.Open();
    }

    [Fact]
    public async Task AddAndWaitAsync_Pending_CompletesOnlyWithItsBatch()
    {
        await using var batcher = new Batcher<int, int>((jobs, ct) => [.. jobs.Select(j => j * 10)], SizeOnly(2));
        batcher.Start();

        Task<int> first = batcher.AddAndWaitAsync(1).AsTask();
        await batcher.IdleAsync();
        Assert.False(first.IsCompleted);

        Task<int> second = batcher.AddAndWaitAsync(2).AsTask();

        Assert.Equal(10, await first.Guarded());
        Assert.Equal(20, await second.Guarded());
    }

    [Fact]
    public async Task OnBatchCompleted_SuccessfulBatch_ReceivesJobsWithTheirResults()
    {
        var seen = new List<(long Id, int[] Jobs, JobStatus[] Statuses, int[] Results)>();
        var options = SizeOnly(3);
        options.OnBatchCompleted = batch =>
        {
            lock (seen)
            {
                seen.Add((
                    batch.Id,
                    batch.ToArray(),
                    [.. Enumerable.Range(0, batch.Count).Select(i => batch.GetOutcome(i).Status)],
                    [.. Enumerable.Range(0, batch.Count).Select(i => batch.GetOutcome(i).Result)]));
            }
        };
        var batcher = new Batcher<int, int>((jobs, ct) => [.. jobs.Select(j => -j)], options);
        batcher.Start();

        for (int i = 1; i <= 6; i++)
        {
            batcher.TryAdd(i);
        }

        await batcher.StopAsync().Guarded();

        Assert.Equal(2, seen.Count);
        Assert.Equal([1L, 2L], seen.Select(s => s.Id).Order());
        var firstBatch = seen.Single(s => s.Id == 1);
        Assert.Equal([1, 2, 3], firstBatch.Jobs);
        Assert.All(firstBatch.Statuses, s => Assert.Equal(JobStatus.Succeeded, s));
        Assert.Equal([-1, -2, -3], firstBatch.Results);
    }

    [Fact]
    public async Task OnBatchCompleted_HandlerThrew_ReceivesTheException()
    {
        var boom = new InvalidOperationException("boom");
        Exception? batchException = null;
        var outcomes = new List<Exception?>();
        var options = SizeOnly(2);
        options.OnBatchCompleted = batch =>
        {
            batchException = batch.Exception;
            outcomes.AddRange(Enumerable.Range(0, batch.Count).Select(i => batch.GetOutcome(i).Exception));
        };
        var batcher = new Batcher<int, int>(Handlers.Throwing<int, int>(boom), options);
        batcher.Start();
        batcher.TryAdd(1);
        batcher.TryAdd(2);

        await batcher.StopAsync().Guarded();

        Assert.Same(boom, batchException);
        Assert.Equal(2, outcomes.Count);
        Assert.All(outcomes, e => Assert.Same(boom, e));
    }

    [Fact]
    public async Task OnBatchCompleted_CallbackThrows_CountedAndNoResultOrLaterBatchAffected()
    {
        var options = SizeOnly(2);
        options.OnBatchCompleted = _ => throw new InvalidOperationException("callback bug");
        await using var batcher = new Batcher<int, int>((jobs, ct) => [.. jobs.Select(j => j + 100)], options);
        batcher.Start();

        int[] first = await Task.WhenAll(batcher.AddAndWaitAsync(1).AsTask(), batcher.AddAndWaitAsync(2).AsTask()).Guarded();
        int[] second = await Task.WhenAll(batcher.AddAndWaitAsync(3).AsTask(), batcher.AddAndWaitAsync(4).AsTask()).Guarded();
        await batcher.IdleAsync();

        Assert.Equal([101, 102], first);
        Assert.Equal([103, 104], second);
        Assert.Equal(2, batcher.Counters.CallbackFailures);
        Assert.Equal(4, batcher.Counters.Succeeded);
        Assert.Equal(0, batcher.Counters.Failed);
    }
}
