using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.DataLoader.Tests;

/// <summary>Synchronous Dispose: never waits, fails what is pending at once, loses nothing silently.</summary>
public sealed class DisposeTests
{
    private static readonly TimeSpan Guard = TestFetch<int>.Guard;

    [Fact]
    public async Task Dispose_KeyQueuedAndKeyBeingFetched_FailsBothAtOnceWithoutWaitingForTheFetch()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int> { Gate = new TaskCompletionSource() };
        var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time, maxBatchSize: 1));

        Task<string> running = loader.LoadAsync(1);
        await fetch.WaitForFetchAsync();
        Task<string> queued = loader.LoadAsync(2);

        loader.Dispose(); // returns although the fetch of key 1 is held open

        var first = await Assert.ThrowsAsync<BatcherStoppedException>(() => running.WaitAsync(Guard));
        var second = await Assert.ThrowsAsync<BatcherStoppedException>(() => queued.WaitAsync(Guard));
        Assert.Contains("key '1'", first.Message, StringComparison.Ordinal);
        Assert.Contains("key '2'", second.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<BatcherStoppedException>(() => loader.LoadAsync(3).WaitAsync(Guard));
        Assert.Equal(0, loader.PendingCount);

        fetch.Gate.SetResult();
        await loader.Batcher.Completion.WaitAsync(Guard);
        Assert.Equal([[1]], fetch.Batches);
    }

    [Fact]
    public async Task Dispose_CalledTwiceAndAfterDisposeAsync_IsHarmless()
    {
        var fetch = new TestFetch<int>();
        var loader = new DataLoader<int, string>(fetch.FetchAsync);
        Assert.Equal("v1", await loader.LoadAsync(1).WaitAsync(Guard));

        await loader.DisposeAsync();
        loader.Dispose();
        loader.Dispose();

        await Assert.ThrowsAsync<BatcherStoppedException>(() => loader.LoadAsync(1).WaitAsync(Guard));
    }

    [Fact]
    public async Task Dispose_DuringADrain_CutsItShortAndFailsTheRest()
    {
        var time = new FakeTimeProvider();
        var fetch = new TestFetch<int> { Gate = new TaskCompletionSource() };
        var loader = new DataLoader<int, string>(fetch.FetchAsync, LoaderFactory.Options<int>(time));

        Task<string> load = loader.LoadAsync(1);
        ValueTask drain = loader.DisposeAsync();
        await fetch.WaitForFetchAsync();
        loader.Dispose();

        await Assert.ThrowsAsync<BatcherStoppedException>(() => load.WaitAsync(Guard));
        fetch.Gate.SetResult();
        await drain.AsTask().WaitAsync(Guard);
    }

    [Fact]
    public async Task Dispose_GroupedLoaderWithAKeyPending_FailsItWithBatcherStoppedException()
    {
        var time = new FakeTimeProvider();
        var loader = new GroupedDataLoader<int, int>(
            (keys, ct) => ValueTask.FromResult(keys.ToLookup(k => k)),
            LoaderFactory.Options<int>(time, delay: TimeSpan.FromHours(1)));

        Task<IReadOnlyList<int>> load = loader.LoadAsync(1);
        loader.Dispose();

        await Assert.ThrowsAsync<BatcherStoppedException>(() => load.WaitAsync(Guard));
    }
}
