using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.DataLoader.Tests;

public sealed class CancellationTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan Guard = TestFetch<int>.Guard;

    [Fact]
    public async Task LoadAsync_OneOfTwoCallersCancels_TheOtherStillGetsTheValue()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));
        using var cts = new CancellationTokenSource();

        Task<string> leaving = loader.LoadAsync(1, cts.Token);
        Task<string> staying = loader.LoadAsync(1);
        await cts.CancelAsync();
        await loader.AdvanceAsync(time, Delay);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving.WaitAsync(Guard));
        Assert.Equal("v1", await staying.WaitAsync(Guard));
        Assert.Equal([1], Assert.Single(fetch.Batches));
    }

    [Fact]
    public async Task LoadAsync_FirstCallerCancels_LaterCallerWithOtherTokenStillServed()
    {
        // The batch is not tied to the first caller's token (the GreenDonut issue): the first caller leaving changes nothing for the second.
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();

        Task<string> a = loader.LoadAsync(1, first.Token);
        Task<string> b = loader.LoadAsync(2, second.Token);
        Task<string> c = loader.LoadAsync(1, second.Token);
        await first.CancelAsync();
        await loader.AdvanceAsync(time, Delay);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.WaitAsync(Guard));
        Assert.Equal(["v2", "v1"], await Task.WhenAll(b, c).WaitAsync(Guard));
        Assert.Equal([1, 2], Assert.Single(fetch.Batches));
    }

    [Fact]
    public async Task LoadAsync_EveryCallerOfAKeyCancelsBeforeDispatch_KeyLeftOutOfTheBatch()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));
        using var cts = new CancellationTokenSource();

        Task<string> gone1 = loader.LoadAsync(1, cts.Token);
        Task<string> gone2 = loader.LoadAsync(1, cts.Token);
        Task<string> kept = loader.LoadAsync(2);
        await loader.IdleAsync();
        await cts.CancelAsync();
        await loader.AdvanceAsync(time, Delay);

        Assert.Equal("v2", await kept.WaitAsync(Guard));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gone1.WaitAsync(Guard));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gone2.WaitAsync(Guard));
        Assert.Equal([2], Assert.Single(fetch.Batches));
        Assert.Equal(1, loader.Counters.Canceled);
    }

    [Fact]
    public async Task LoadAsync_EveryKeyOfTheBatchCancelled_FetchIsNotCalled()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));
        using var cts = new CancellationTokenSource();

        Task<string>[] loads = [loader.LoadAsync(1, cts.Token), loader.LoadAsync(2, cts.Token)];
        await loader.IdleAsync();
        await cts.CancelAsync();
        await loader.AdvanceAsync(time, Delay);
        await loader.IdleAsync();

        foreach (Task<string> load in loads)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => load.WaitAsync(Guard));
        }

        Assert.Empty(fetch.Batches);
        Assert.Equal(0, loader.Counters.Batches);
        Assert.Equal(0, loader.PendingCount);
    }

    [Fact]
    public async Task LoadAsync_KeyCancelledThenRequestedAgain_IsFetched()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));
        using var cts = new CancellationTokenSource();

        Task<string> gone = loader.LoadAsync(1, cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gone.WaitAsync(Guard));
        Task<string> again = loader.LoadAsync(1);
        await loader.AdvanceAsync(time, Delay);

        Assert.Equal("v1", await again.WaitAsync(Guard));
        Assert.Equal([1], Assert.Single(fetch.Batches));
    }

    [Fact]
    public async Task LoadAsync_CallerCancelsAfterDispatch_OthersAndTheCacheGetTheValue()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int> { Gate = new TaskCompletionSource() };
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));
        using var cts = new CancellationTokenSource();

        Task<string> leaving = loader.LoadAsync(1, cts.Token);
        await loader.AdvanceAsync(time, Delay);
        await fetch.WaitForFetchAsync();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving.WaitAsync(Guard));
        Task<string> joined = loader.LoadAsync(1);
        fetch.Gate.SetResult();

        Assert.Equal("v1", await joined.WaitAsync(Guard));
        Assert.Single(fetch.Batches);
    }

    [Fact]
    public async Task LoadAsync_AlreadyCancelledToken_ReturnsCanceledWithoutRequestingTheKey()
    {
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync);

        Task<string> load = loader.LoadAsync(1, new CancellationToken(canceled: true));

        Assert.True(load.IsCanceled);
        Assert.Equal(0, loader.PendingCount);
    }

    [Fact]
    public async Task LoadManyAsync_Cancelled_ThrowsOperationCanceled()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int>();
        await using var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));
        using var cts = new CancellationTokenSource();

        Task<IReadOnlyList<string>> many = loader.LoadManyAsync([1, 2], cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => many.WaitAsync(Guard));
        await loader.AdvanceAsync(time, Delay);
        await loader.IdleAsync();
        Assert.Empty(fetch.Batches);
    }
}
