using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests.Streams;

/// <summary>
/// <see cref="AsyncEnumerableBatchExtensions.Batch{T}"/>: by size, by time from each batch's first item on every batch,
/// and no item lost when a batch goes out on time while the source's MoveNextAsync is pending. The source completes a
/// pending move on the thread that pushes, so the operator is in step with the test.
/// </summary>
public class AsyncEnumerableBatchTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(10);

    [Fact]
    public async Task Batch_ItemsReadyAtOnce_YieldsFullBatchesThenTheRestAtTheEnd()
    {
        var source = new ManualAsyncSource<int>();
        source.Push(1, 2, 3, 4, 5, 6, 7);
        source.Complete();

        List<IReadOnlyList<int>> batches = await source.Batch(3, TimeSpan.FromHours(1), new FakeTimeProvider()).CollectAsync().Guarded();

        Assert.Equal([[1, 2, 3], [4, 5, 6], [7]], batches);
        Assert.True(source.Disposed);
    }

    [Fact]
    public async Task Batch_PartialBatchesOneAfterAnother_EachGoesOutWhenItsFirstItemHasWaitedTheDelay()
    {
        // The Go original armed a one-shot timer once: only the first partial batch left on time.
        var time = new FakeTimeProvider();
        var source = new ManualAsyncSource<int>();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = source.Batch(100, Delay, time).GetAsyncEnumerator();

        for (int round = 1; round <= 4; round++)
        {
            time.Advance(TimeSpan.FromMilliseconds(3));
            source.Push(round);
            Task<bool> next = batches.MoveNextAsync().AsTask();
            time.Advance(Delay - TimeSpan.FromTicks(1));
            Assert.False(next.IsCompleted, $"batch {round} left before its delay");

            time.Advance(TimeSpan.FromTicks(1));
            Assert.True(await next.Guarded());
            Assert.Equal([round], batches.Current);
        }
    }

    [Fact]
    public async Task Batch_MovePendingWhenTheDelayFires_KeepsTheMoveAndItsItemStartsTheNextBatch()
    {
        var time = new FakeTimeProvider();
        var source = new ManualAsyncSource<int>();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = source.Batch(100, Delay, time).GetAsyncEnumerator();

        source.Push(1);
        Task<bool> next = batches.MoveNextAsync().AsTask();
        time.Advance(Delay);
        Assert.True(await next.Guarded());
        Assert.Equal([1], batches.Current);
        Assert.True(source.MovePending);

        // The item arrives while the consumer holds batch 1: it is not lost, and no second move was started.
        source.Push(2);
        Assert.Equal(2, source.MoveCalls);
        time.Advance(TimeSpan.FromMilliseconds(5));
        next = batches.MoveNextAsync().AsTask();
        time.Advance(Delay - TimeSpan.FromTicks(1));
        Assert.False(next.IsCompleted, "the delay counts from when the operator read item 2");
        time.Advance(TimeSpan.FromTicks(1));
        Assert.True(await next.Guarded());
        Assert.Equal([2], batches.Current);
    }

    [Fact]
    public async Task Batch_ItemsTrickleIn_JoinTheBatchAndTheDelayCountsFromTheFirst()
    {
        var time = new FakeTimeProvider();
        var source = new ManualAsyncSource<int>();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = source.Batch(100, Delay, time).GetAsyncEnumerator();

        source.Push(1);
        Task<bool> next = batches.MoveNextAsync().AsTask();
        time.Advance(TimeSpan.FromMilliseconds(4));
        source.Push(2);
        time.Advance(TimeSpan.FromMilliseconds(4));
        source.Push(3);
        Assert.False(next.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(2));

        Assert.True(await next.Guarded());
        Assert.Equal([1, 2, 3], batches.Current);
    }

    [Fact]
    public async Task Batch_ZeroDelay_YieldsTheItemsReadyAtOnceAndKeepsThePendingMove()
    {
        var source = new ManualAsyncSource<int>();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = source.Batch(3, TimeSpan.Zero, new FakeTimeProvider()).GetAsyncEnumerator();
        source.Push(1, 2, 3, 4, 5);

        Assert.True(await batches.MoveNextAsync().Guarded());
        Assert.Equal([1, 2, 3], batches.Current);
        Assert.True(await batches.MoveNextAsync().Guarded());
        Assert.Equal([4, 5], batches.Current);
        Assert.True(source.MovePending);

        source.Push(6);
        Assert.True(await batches.MoveNextAsync().Guarded());
        Assert.Equal([6], batches.Current);
    }

    [Fact]
    public async Task Batch_InfiniteDelay_WaitsForAFullBatchAndYieldsTheRestAtTheEnd()
    {
        var time = new TimerLimitClock();
        var source = new ManualAsyncSource<int>();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = source.Batch(3, Timeout.InfiniteTimeSpan, time).GetAsyncEnumerator();

        source.Push(1, 2);
        Task<bool> next = batches.MoveNextAsync().AsTask();
        time.Advance(TimeSpan.FromDays(400));
        Assert.False(next.IsCompleted);
        source.Push(3);
        Assert.True(await next.Guarded());
        Assert.Equal([1, 2, 3], batches.Current);

        source.Push(4);
        source.Complete();
        Assert.True(await batches.MoveNextAsync().Guarded());
        Assert.Equal([4], batches.Current);
        Assert.False(await batches.MoveNextAsync().Guarded());
        Assert.Empty(time.DueTimes);
    }

    [Fact]
    public async Task Batch_TimeSpanMaxValue_ArmsWithinTheTimerLimitAndFillsBySize()
    {
        var time = new TimerLimitClock();
        var source = new ManualAsyncSource<int>();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = source.Batch(2, TimeSpan.MaxValue, time).GetAsyncEnumerator();

        source.Push(1);
        Task<bool> next = batches.MoveNextAsync().AsTask();
        time.Advance(TimeSpan.FromDays(100));
        await time.WhenArmedAsync(2).Guarded();
        Assert.False(next.IsCompleted);
        source.Push(2);

        Assert.True(await next.Guarded());
        Assert.Equal([1, 2], batches.Current);
    }

    [Fact]
    public async Task Batch_MaxSizeIntMaxValueWithFewItems_AllocatesOnlyForTheItems()
    {
        var source = new ManualAsyncSource<int>();
        source.Push(1, 2, 3);
        source.Complete();

        long before = GC.GetAllocatedBytesForCurrentThread();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = source.Batch(int.MaxValue, Timeout.InfiniteTimeSpan).GetAsyncEnumerator();
        Assert.True(await batches.MoveNextAsync());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal([1, 2, 3], batches.Current);
        Assert.True(allocated < 16 * 1024, $"allocated {allocated} bytes for a batch of 3");
    }

    [Fact]
    public async Task Batch_SourceThrows_YieldsTheItemsReadThenThrowsOnTheNextMove()
    {
        var error = new InvalidOperationException("source failed");
        var source = new ManualAsyncSource<int>();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = source.Batch(100, Delay, new FakeTimeProvider()).GetAsyncEnumerator();
        source.Push(1, 2);

        Task<bool> next = batches.MoveNextAsync().AsTask();
        source.Fail(error);
        Assert.True(await next.Guarded());
        Assert.Equal([1, 2], batches.Current);

        Exception thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => batches.MoveNextAsync().AsTask().Guarded());
        Assert.Same(error, thrown);
    }

    [Fact]
    public async Task Batch_SourceThrowsBeforeAnyItem_ThrowsOnTheFirstMove()
    {
        var error = new InvalidOperationException("source failed");
        var source = new ManualAsyncSource<int>();
        source.Fail(error);

        Exception thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => source.Batch(100, Delay).CollectAsync().Guarded());
        Assert.Same(error, thrown);
        Assert.True(source.Disposed);
    }

    [Fact]
    public async Task Batch_DisposedWithAMovePending_CancelsTheSourceAndLosesNothing()
    {
        var time = new TimerLimitClock();
        var source = new ManualAsyncSource<int>();
        IAsyncEnumerator<IReadOnlyList<int>> batches = source.Batch(100, Delay, time).GetAsyncEnumerator();
        source.Push(1);
        Task<bool> next = batches.MoveNextAsync().AsTask();
        time.Advance(Delay);
        Assert.True(await next.Guarded());
        Assert.Equal([1], batches.Current);

        await batches.DisposeAsync().Guarded();

        // Every item is accounted for: 1 was yielded; the pending move ended with the source's cancellation.
        Assert.True(source.CancellationRequested);
        Assert.True(source.Disposed);
        Assert.False(source.MovePending);
        Assert.Equal(0, time.TimersAlive);
    }

    [Fact]
    public async Task Batch_DisposedAndTheSourceStillDeliversAnItem_HandsItBackInItemNotYieldedException()
    {
        var time = new FakeTimeProvider();
        var source = new ManualAsyncSource<int> { HonorsCancellation = false };
        IAsyncEnumerator<IReadOnlyList<int>> batches = source.Batch(100, Delay, time).GetAsyncEnumerator();
        source.Push(1);
        Task<bool> next = batches.MoveNextAsync().AsTask();
        time.Advance(Delay);
        Assert.True(await next.Guarded());
        Assert.Equal([1], batches.Current);

        Task disposing = batches.DisposeAsync().AsTask();
        Assert.False(disposing.IsCompleted, "dispose must wait for the pending move before disposing the source");
        source.Push(2);

        ItemNotYieldedException thrown = await Assert.ThrowsAsync<ItemNotYieldedException>(() => disposing.Guarded());
        Assert.Equal(2, thrown.Item);
        Assert.True(source.Disposed);
    }

    [Fact]
    public async Task Batch_CancelledWithAMovePending_WaitsForItAndYieldsEverythingReadThenThrows()
    {
        using var cts = new CancellationTokenSource();
        var source = new ManualAsyncSource<int> { HonorsCancellation = false };
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = source.Batch(100, Delay, new FakeTimeProvider()).GetAsyncEnumerator(cts.Token);
        source.Push(1);
        Task<bool> next = batches.MoveNextAsync().AsTask();

        await cts.CancelAsync();
        Assert.False(next.IsCompleted);
        source.Push(2);

        Assert.True(await next.Guarded());
        Assert.Equal([1, 2], batches.Current);
        OperationCanceledException thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => batches.MoveNextAsync().AsTask().Guarded());
        Assert.Equal(cts.Token, thrown.CancellationToken);
        Assert.Equal(2, source.MoveCalls);
    }

    [Fact]
    public async Task Batch_CancelledWithNothingRead_ThrowsOperationCanceledAndDisposesTheSource()
    {
        using var cts = new CancellationTokenSource();
        var source = new ManualAsyncSource<int>();
        var started = new TaskCompletionSource();
        Task consumer = ConsumeAsync();
        await started.Task.Guarded();
        await cts.CancelAsync();

        OperationCanceledException thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => consumer.Guarded());
        Assert.Equal(cts.Token, thrown.CancellationToken);
        Assert.True(source.Disposed);

        async Task ConsumeAsync()
        {
            started.SetResult();
            await foreach (IReadOnlyList<int> batch in source.Batch(100, Delay).WithCancellation(cts.Token))
            {
                Assert.Fail($"an empty source yielded a batch of {batch.Count}");
            }
        }
    }

    [Fact]
    public void Batch_InvalidArguments_ThrowAtTheCallNamingTheParameter()
    {
        var source = new ManualAsyncSource<int>();

        Assert.Equal("maxSize", Assert.Throws<ArgumentOutOfRangeException>(() => source.Batch(0, Delay)).ParamName);
        Assert.Equal("maxDelay", Assert.Throws<ArgumentOutOfRangeException>(() => source.Batch(1, TimeSpan.FromTicks(-1))).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentNullException>(() => ((IAsyncEnumerable<int>)null!).Batch(1, Delay)).ParamName);
        Assert.Equal(0, source.MoveCalls);
    }
}
