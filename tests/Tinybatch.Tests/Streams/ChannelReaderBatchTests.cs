using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests.Streams;

/// <summary>
/// <see cref="ChannelReaderBatchExtensions.Batch{T}"/>: by size, by time from each batch's first item on every batch,
/// and nothing taken from the channel that is not yielded. Writes that race the operator use a channel with synchronous
/// continuations, so the operator has taken the item before the write returns.
/// </summary>
public class ChannelReaderBatchTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan BatchTriggerLimit = Tinybatch.Internal.BatchTrigger.MaxTimerDelay;

    [Fact]
    public async Task Batch_FullBatchesWaiting_YieldsBySizeWithoutTheClock()
    {
        var time = new FakeTimeProvider();
        Channel<int> channel = Channel.CreateUnbounded<int>();
        Write(channel, 1, 2, 3, 4, 5, 6, 7);
        channel.Writer.Complete();

        List<IReadOnlyList<int>> batches = await channel.Reader.Batch(3, TimeSpan.FromHours(1), time).CollectAsync().Guarded();

        Assert.Equal([[1, 2, 3], [4, 5, 6], [7]], batches);
    }

    [Fact]
    public async Task Batch_PartialBatchesOneAfterAnother_EachGoesOutWhenItsFirstItemHasWaitedTheDelay()
    {
        // The Go original armed a one-shot timer once: only the first partial batch left on time.
        var time = new FakeTimeProvider();
        Channel<int> channel = Channel.CreateUnbounded<int>();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = channel.Reader.Batch(100, Delay, time).GetAsyncEnumerator();

        for (int round = 1; round <= 4; round++)
        {
            time.Advance(TimeSpan.FromMilliseconds(3));
            Write(channel, round);
            Task<bool> next = batches.MoveNextAsync().AsTask();
            time.Advance(Delay - TimeSpan.FromTicks(1));
            Assert.False(next.IsCompleted, $"batch {round} left before its delay");

            time.Advance(TimeSpan.FromTicks(1));
            Assert.True(await next.Guarded());
            Assert.Equal([round], batches.Current);
        }
    }

    [Fact]
    public async Task Batch_ItemsTrickleIn_JoinTheBatchAndTheDelayCountsFromTheFirst()
    {
        var time = new FakeTimeProvider();
        Channel<int> channel = SynchronousChannel();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = channel.Reader.Batch(100, Delay, time).GetAsyncEnumerator();

        Write(channel, 1);
        Task<bool> next = batches.MoveNextAsync().AsTask();
        time.Advance(TimeSpan.FromMilliseconds(4));
        Write(channel, 2);
        time.Advance(TimeSpan.FromMilliseconds(4));
        Write(channel, 3);
        Assert.False(next.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(2));
        Assert.True(await next.Guarded());
        Assert.Equal([1, 2, 3], batches.Current);

        // The next batch counts from its own first item, 2 ms later.
        time.Advance(TimeSpan.FromMilliseconds(2));
        Write(channel, 4);
        next = batches.MoveNextAsync().AsTask();
        time.Advance(Delay - TimeSpan.FromTicks(1));
        Assert.False(next.IsCompleted);
        time.Advance(TimeSpan.FromTicks(1));
        Assert.True(await next.Guarded());
        Assert.Equal([4], batches.Current);
    }

    [Fact]
    public async Task Batch_ZeroDelay_YieldsWhatIsInTheChannelAtOnce()
    {
        Channel<int> channel = Channel.CreateUnbounded<int>();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = channel.Reader.Batch(3, TimeSpan.Zero, new FakeTimeProvider()).GetAsyncEnumerator();
        Write(channel, 1, 2, 3, 4, 5);

        Assert.True(await batches.MoveNextAsync().Guarded());
        Assert.Equal([1, 2, 3], batches.Current);
        Assert.True(await batches.MoveNextAsync().Guarded());
        Assert.Equal([4, 5], batches.Current);

        Task<bool> next = batches.MoveNextAsync().AsTask();
        Assert.False(next.IsCompleted);
        Write(channel, 6);
        Assert.True(await next.Guarded());
        Assert.Equal([6], batches.Current);
    }

    [Fact]
    public async Task Batch_InfiniteDelay_WaitsForAFullBatchAndYieldsTheRestAtCompletion()
    {
        var time = new TimerLimitClock();
        Channel<int> channel = SynchronousChannel();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = channel.Reader.Batch(3, Timeout.InfiniteTimeSpan, time).GetAsyncEnumerator();

        Write(channel, 1, 2);
        Task<bool> next = batches.MoveNextAsync().AsTask();
        time.Advance(TimeSpan.FromDays(400));
        Assert.False(next.IsCompleted);
        Write(channel, 3);
        Assert.True(await next.Guarded());
        Assert.Equal([1, 2, 3], batches.Current);

        Write(channel, 4);
        channel.Writer.Complete();
        Assert.True(await batches.MoveNextAsync().Guarded());
        Assert.Equal([4], batches.Current);
        Assert.False(await batches.MoveNextAsync().Guarded());
        Assert.Empty(time.DueTimes);
    }

    [Fact]
    public async Task Batch_DelayBeyondTheSystemTimerLimit_IsArmedInStepsAndReleasesTheBatchOnTime()
    {
        var time = new TimerLimitClock();
        TimeSpan sixtyDays = TimeSpan.FromDays(60);
        Channel<int> channel = Channel.CreateUnbounded<int>();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = channel.Reader.Batch(100, sixtyDays, time).GetAsyncEnumerator();

        Write(channel, 1);
        Task<bool> next = batches.MoveNextAsync().AsTask();
        Assert.Equal(BatchTriggerLimit, Assert.Single(time.DueTimes));
        time.Advance(TimeSpan.FromDays(50));

        // The capped timer fired; the operator, woken on the pool, finds the batch not due and arms what is left.
        await time.WhenArmedAsync(2).Guarded();
        Assert.False(next.IsCompleted);
        Assert.Equal(sixtyDays - TimeSpan.FromDays(50), time.DueTimes[1]);
        time.Advance(TimeSpan.FromDays(10));

        Assert.True(await next.Guarded());
        Assert.Equal([1], batches.Current);
    }

    [Fact]
    public async Task Batch_TimeSpanMaxValue_NeverReleasesByTimeAndFillsBySize()
    {
        var time = new TimerLimitClock();
        Channel<int> channel = SynchronousChannel();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = channel.Reader.Batch(2, TimeSpan.MaxValue, time).GetAsyncEnumerator();

        Write(channel, 1);
        Task<bool> next = batches.MoveNextAsync().AsTask();
        time.Advance(TimeSpan.FromDays(100));
        Assert.False(next.IsCompleted);
        Write(channel, 2);

        Assert.True(await next.Guarded());
        Assert.Equal([1, 2], batches.Current);
    }

    [Fact]
    public async Task Batch_MaxSizeIntMaxValueWithFewItems_AllocatesOnlyForTheItems()
    {
        Channel<int> channel = Channel.CreateUnbounded<int>();
        Write(channel, 1, 2, 3);
        channel.Writer.Complete();

        long before = GC.GetAllocatedBytesForCurrentThread();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = channel.Reader.Batch(int.MaxValue, Timeout.InfiniteTimeSpan).GetAsyncEnumerator();
        Assert.True(await batches.MoveNextAsync());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal([1, 2, 3], batches.Current);
        Assert.True(allocated < 16 * 1024, $"allocated {allocated} bytes for a batch of 3");
    }

    [Fact]
    public async Task Batch_ChannelCompletedWithAnError_YieldsTheItemsTakenThenThrowsTheError()
    {
        var error = new InvalidOperationException("writer failed");
        Channel<int> channel = Channel.CreateUnbounded<int>();
        Write(channel, 1, 2);
        channel.Writer.Complete(error);
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = channel.Reader.Batch(100, Delay, new FakeTimeProvider()).GetAsyncEnumerator();

        Assert.True(await batches.MoveNextAsync().Guarded());
        Assert.Equal([1, 2], batches.Current);
        Exception thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => batches.MoveNextAsync().Guarded());
        Assert.Same(error, thrown);
    }

    [Fact]
    public async Task Batch_CancelledMidBatch_YieldsWhatItTookThenThrowsAndLeavesTheRestInTheChannel()
    {
        using var cts = new CancellationTokenSource();
        Channel<int> channel = SynchronousChannel();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = channel.Reader.Batch(100, Delay, new FakeTimeProvider()).GetAsyncEnumerator(cts.Token);

        Write(channel, 1);
        Task<bool> next = batches.MoveNextAsync().AsTask();
        await cts.CancelAsync();
        Assert.True(await next.Guarded());
        Assert.Equal([1], batches.Current);

        Write(channel, 2);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => batches.MoveNextAsync().Guarded());
        Assert.True(channel.Reader.TryRead(out int left));
        Assert.Equal(2, left);
    }

    [Fact]
    public async Task Batch_CancelledWithNothingTaken_ThrowsOperationCanceledWithTheConsumersToken()
    {
        using var cts = new CancellationTokenSource();
        Channel<int> channel = Channel.CreateUnbounded<int>();
        var started = new TaskCompletionSource();
        Task consumer = ConsumeAsync();
        await started.Task.Guarded();
        await cts.CancelAsync();

        OperationCanceledException thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => consumer.Guarded());
        Assert.Equal(cts.Token, thrown.CancellationToken);

        async Task ConsumeAsync()
        {
            started.SetResult();
            await foreach (IReadOnlyList<int> batch in channel.Reader.Batch(100, Delay).WithCancellation(cts.Token))
            {
                Assert.Fail($"an empty channel yielded a batch of {batch.Count}");
            }
        }
    }

    [Fact]
    public async Task Batch_DisposedAfterATimedBatch_StopsItsTimerAndWaitAndTakesNothingMore()
    {
        var time = new TimerLimitClock();
        Channel<int> channel = Channel.CreateUnbounded<int>();
        IAsyncEnumerator<IReadOnlyList<int>> batches = channel.Reader.Batch(3, Delay, time).GetAsyncEnumerator();
        Write(channel, 1);
        Task<bool> next = batches.MoveNextAsync().AsTask();
        time.Advance(Delay);
        Assert.True(await next.Guarded());
        Assert.Equal([1], batches.Current);

        await batches.DisposeAsync().Guarded();
        Write(channel, 2, 3);

        // Every item is accounted for: 1 was yielded, 2 and 3 are still in the channel.
        Assert.Equal(0, time.TimersAlive);
        Assert.True(channel.Reader.TryRead(out int second));
        Assert.True(channel.Reader.TryRead(out int third));
        Assert.Equal((2, 3), (second, third));
    }

    [Fact]
    public async Task Batch_DisposedAfterAFullBatch_LeavesTheNextItemsInTheChannel()
    {
        Channel<int> channel = Channel.CreateUnbounded<int>();
        Write(channel, 1, 2, 3, 4, 5);
        await using (IAsyncEnumerator<IReadOnlyList<int>> batches = channel.Reader.Batch(2, Delay).GetAsyncEnumerator())
        {
            Assert.True(await batches.MoveNextAsync().Guarded());
            Assert.Equal([1, 2], batches.Current);
        }

        Assert.Equal(3, channel.Reader.Count);
    }

    [Fact]
    public async Task Batch_TimerFiresEarly_IsArmedAgainAndTheBatchWaitsForItsDeadline()
    {
        var time = new CountingTimeProvider();
        Channel<int> channel = Channel.CreateUnbounded<int>();
        await using IAsyncEnumerator<IReadOnlyList<int>> batches = channel.Reader.Batch(100, Delay, time).GetAsyncEnumerator();

        Write(channel, 1);
        Task<bool> next = batches.MoveNextAsync().AsTask();
        time.Advance(TimeSpan.FromMilliseconds(3));
        Assert.Equal(1, time.FireArmedTimersEarly());

        // The early wake runs on the thread pool; the deadline still releases the batch, and not before.
        time.Advance(TimeSpan.FromMilliseconds(7));
        Assert.True(await next.Guarded());
        Assert.Equal([1], batches.Current);
        Assert.Equal(1, time.TimersCreated);
    }

    [Fact]
    public void Batch_InvalidArguments_ThrowAtTheCallNamingTheParameter()
    {
        ChannelReader<int> reader = Channel.CreateUnbounded<int>().Reader;

        Assert.Equal("maxSize", Assert.Throws<ArgumentOutOfRangeException>(() => reader.Batch(0, Delay)).ParamName);
        Assert.Equal("maxSize", Assert.Throws<ArgumentOutOfRangeException>(() => reader.Batch(-1, Delay)).ParamName);
        Assert.Equal("maxDelay", Assert.Throws<ArgumentOutOfRangeException>(() => reader.Batch(1, TimeSpan.FromMilliseconds(-2))).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentNullException>(() => ((ChannelReader<int>)null!).Batch(1, Delay)).ParamName);
        Assert.NotNull(reader.Batch(1, Timeout.InfiniteTimeSpan));
    }

    private static Channel<int> SynchronousChannel() =>
        Channel.CreateUnbounded<int>(new UnboundedChannelOptions { AllowSynchronousContinuations = true });

    private static void Write(Channel<int> channel, params int[] items)
    {
        foreach (int item in items)
        {
            Assert.True(channel.Writer.TryWrite(item));
        }
    }
}
