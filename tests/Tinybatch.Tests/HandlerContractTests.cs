using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>Contract point 1: generic jobs and results, results by position, sync and async handlers, failures.</summary>
public class HandlerContractTests
{
    private static BatcherOptions<int, string> SizeOnly(int size) =>
        new() { MaxBatchSize = size, MaxBatchDelay = Timeout.InfiniteTimeSpan, TimeProvider = new FakeTimeProvider() };

    [Fact]
    public async Task AddAndWaitAsync_AsyncHandler_EachCallerGetsResultAtItsJobsPosition()
    {
        await using var batcher = new Batcher<int, string>(
            async (jobs, ct) =>
            {
                await Task.Yield();
                return [.. jobs.Select(j => $"r{j}")];
            },
            SizeOnly(4));
        batcher.Start();

        // Jobs in a deliberately unsorted order: the result must follow the job, not the value.
        int[] jobs = [7, 3, 9, 1];
        string[] results = await Task.WhenAll(jobs.Select(j => batcher.AddAndWaitAsync(j).AsTask())).Guarded();

        Assert.Equal(["r7", "r3", "r9", "r1"], results);
    }

    [Fact]
    public async Task AddAndWaitAsync_SyncHandler_EachCallerGetsResultAtItsJobsPosition()
    {
        await using var batcher = new Batcher<int, string>(
            (jobs, ct) => [.. jobs.Select(j => $"s{j}")],
            SizeOnly(3));
        batcher.Start();

        string[] results = await Task.WhenAll(new[] { 5, 6, 2 }.Select(j => batcher.AddAndWaitAsync(j).AsTask())).Guarded();

        Assert.Equal(["s5", "s6", "s2"], results);
    }

    [Fact]
    public async Task AddAndWaitAsync_GenericReferenceTypes_ResultsFlowUnchanged()
    {
        var result = new object();
        await using var batcher = new Batcher<string, object>(
            (jobs, ct) => [.. jobs.Select(_ => result)],
            new BatcherOptions<string, object> { MaxBatchSize = 1 });
        batcher.Start();

        Assert.Same(result, await batcher.AddAndWaitAsync("job").Guarded());
    }

    [Fact]
    public async Task Handler_JobsAddedInOrder_ReceivesThemInAddOrder()
    {
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(recorder.Echo, new BatcherOptions<int, int> { MaxBatchSize = 5, MaxBatchDelay = Timeout.InfiniteTimeSpan });
        for (int i = 0; i < 5; i++)
        {
            Assert.True(batcher.TryAdd(i));
        }

        batcher.Start();
        await batcher.FlushAsync().Guarded();

        Assert.Equal([0, 1, 2, 3, 4], Assert.Single(recorder.Batches));
    }

    [Fact]
    public async Task AddAndWaitAsync_AsyncHandlerThrows_EveryJobGetsTheSameExceptionObject()
    {
        var boom = new InvalidOperationException("boom");
        await using var batcher = new Batcher<int, string>(
            async (jobs, ct) =>
            {
                await Task.Yield();
                throw boom;
            },
            SizeOnly(3));
        batcher.Start();

        Task<string>[] waits = [.. Enumerable.Range(0, 3).Select(i => batcher.AddAndWaitAsync(i).AsTask())];

        foreach (Task<string> wait in waits)
        {
            Exception thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => wait.Guarded());
            Assert.Same(boom, thrown);
        }
    }

    [Fact]
    public async Task AddAndWaitAsync_SyncHandlerThrows_EveryJobGetsTheSameExceptionObject()
    {
        var boom = new FormatException("sync boom");
        await using var batcher = new Batcher<int, string>(Handlers.Throwing<int, string>(boom), SizeOnly(2));
        batcher.Start();

        Task<string>[] waits = [batcher.AddAndWaitAsync(1).AsTask(), batcher.AddAndWaitAsync(2).AsTask()];

        foreach (Task<string> wait in waits)
        {
            Assert.Same(boom, await Assert.ThrowsAsync<FormatException>(() => wait.Guarded()));
        }

        Assert.Equal(2, batcher.Counters.Failed);
    }

    [Fact]
    public async Task AddAndWaitAsync_HandlerReturnsTooFewResults_EveryJobFailsWithCountException()
    {
        await using var batcher = new Batcher<int, string>((jobs, ct) => ["only one"], SizeOnly(3));
        batcher.Start();

        Task<string>[] waits = [.. Enumerable.Range(0, 3).Select(i => batcher.AddAndWaitAsync(i).AsTask())];

        foreach (Task<string> wait in waits)
        {
            var error = await Assert.ThrowsAsync<BatchResultCountException>(() => wait.Guarded());
            Assert.Equal(3, error.Expected);
            Assert.Equal(1, error.Actual);
            Assert.Equal(1, error.BatchId);
            Assert.Contains("batch 1", error.Message, StringComparison.Ordinal);
            Assert.Contains("1 results", error.Message, StringComparison.Ordinal);
            Assert.Contains("3", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AddAndWaitAsync_HandlerReturnsTooManyResults_EveryJobFailsWithCountException()
    {
        await using var batcher = new Batcher<int, string>((jobs, ct) => ["a", "b", "c"], SizeOnly(2));
        batcher.Start();

        Task<string>[] waits = [batcher.AddAndWaitAsync(1).AsTask(), batcher.AddAndWaitAsync(2).AsTask()];

        foreach (Task<string> wait in waits)
        {
            var error = await Assert.ThrowsAsync<BatchResultCountException>(() => wait.Guarded());
            Assert.Equal(2, error.Expected);
            Assert.Equal(3, error.Actual);
        }
    }

    [Fact]
    public async Task AddAndWaitAsync_HandlerReturnsNullList_EveryJobFailsWithCountExceptionNamingBatch()
    {
        var sizes = new Recorder<int>();
        await using var batcher = new Batcher<int, string>(
            (jobs, ct) =>
            {
                sizes.Record(jobs);

                // The second batch returns null: the exception must name batch 2.
                return sizes.BatchCount == 2 ? null! : [.. jobs.Select(j => j.ToString(System.Globalization.CultureInfo.InvariantCulture))];
            },
            SizeOnly(2));
        batcher.Start();

        string[] first = await Task.WhenAll(batcher.AddAndWaitAsync(1).AsTask(), batcher.AddAndWaitAsync(2).AsTask()).Guarded();
        Assert.Equal(["1", "2"], first);
        Task<string>[] waits = [batcher.AddAndWaitAsync(3).AsTask(), batcher.AddAndWaitAsync(4).AsTask()];

        foreach (Task<string> wait in waits)
        {
            var error = await Assert.ThrowsAsync<BatchResultCountException>(() => wait.Guarded());
            Assert.Equal(2, error.BatchId);
            Assert.Equal(2, error.Expected);
            Assert.Equal(-1, error.Actual);
            Assert.Contains("null", error.Message, StringComparison.Ordinal);
            Assert.Contains("batch 2", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AddAndWaitAsync_BatchHandlerType_ReportsResultsThroughBatch()
    {
        await using var batcher = new Batcher<int, int>(new DoublingHandler(), new BatcherOptions<int, int> { MaxBatchSize = 2 });
        batcher.Start();

        int[] results = await Task.WhenAll(batcher.AddAndWaitAsync(4).AsTask(), batcher.AddAndWaitAsync(5).AsTask()).Guarded();

        Assert.Equal([8, 10], results);
    }

    private sealed class DoublingHandler : IBatchHandler<int, int>
    {
        public ValueTask HandleAsync(Batch<int, int> batch, CancellationToken cancellationToken)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                batch.SetResult(i, batch[i] * 2);
            }

            return default;
        }
    }

    [Fact]
    public async Task AddAndWaitAsync_AsyncHandlerCompletingSynchronously_ReturnsResultsByPosition()
    {
        await using var batcher = new Batcher<int, string>(
            (jobs, ct) => ValueTask.FromResult<IReadOnlyList<string>>([.. jobs.Select(j => $"v{j}")]),
            SizeOnly(2));
        batcher.Start();

        string[] results = await Task.WhenAll(batcher.AddAndWaitAsync(8).AsTask(), batcher.AddAndWaitAsync(9).AsTask()).Guarded();

        Assert.Equal(["v8", "v9"], results);
    }

    [Fact]
    public async Task AddAndWaitAsync_AsyncHandlerReturnsWrongCount_EveryJobFailsWithCountException()
    {
        await using var batcher = new Batcher<int, string>(
            async (jobs, ct) =>
            {
                await Task.Yield();
                return ["x", "y", "z", "w"];
            },
            SizeOnly(2));
        batcher.Start();

        Task<string>[] waits = [batcher.AddAndWaitAsync(1).AsTask(), batcher.AddAndWaitAsync(2).AsTask()];

        foreach (Task<string> wait in waits)
        {
            var error = await Assert.ThrowsAsync<BatchResultCountException>(() => wait.Guarded());
            Assert.Equal((2, 4, 1L), (error.Expected, error.Actual, error.BatchId));
        }
    }

    [Fact]
    public async Task AddAndWaitAsync_HandlerThrowsSynchronouslyBeforeReturningATask_EveryJobGetsTheException()
    {
        var boom = new InvalidOperationException("thrown before any await");
        Func<IReadOnlyList<int>, CancellationToken, ValueTask<IReadOnlyList<string>>> handler = (jobs, ct) => throw boom;
        await using var batcher = new Batcher<int, string>(handler, SizeOnly(2));
        batcher.Start();

        Task<string>[] waits = [batcher.AddAndWaitAsync(1).AsTask(), batcher.AddAndWaitAsync(2).AsTask()];

        foreach (Task<string> wait in waits)
        {
            Assert.Same(boom, await Assert.ThrowsAsync<InvalidOperationException>(() => wait.Guarded()));
        }
    }
}
