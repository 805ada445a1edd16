using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>Contract point 7: StopAsync and DisposeAsync drain; the stop deadline fails what is left, visibly.</summary>
public class StopTests
{
    private static BatcherOptions<int, int> Options(FakeTimeProvider time, int size = 10, int capacity = 10_000) => new()
    {
        MaxBatchSize = size,
        Capacity = capacity,
        MaxBatchDelay = Timeout.InfiniteTimeSpan,
        TimeProvider = time,
    };

    [Fact]
    public async Task StopAsync_PendingJobs_DispatchesEveryAcceptedJob()
    {
        var recorder = new Recorder<int>();
        var batcher = new Batcher<int, int>(recorder.Echo, Options(new FakeTimeProvider(), size: 4));
        batcher.Start();
        Task<int>[] awaited = [.. Enumerable.Range(0, 10).Select(i => batcher.AddAndWaitAsync(i).AsTask())];

        await batcher.StopAsync().Guarded();

        Assert.Equal(Enumerable.Range(0, 10), await Task.WhenAll(awaited).Guarded());
        Assert.Equal(Enumerable.Range(0, 10), recorder.AllJobs);
        Assert.Equal(10, batcher.Counters.Succeeded);
        Assert.Equal(BatcherState.Stopped, batcher.State);
    }

    [Fact]
    public async Task StopAsync_HandlerAndCallbackInFlight_WaitsForBoth()
    {
        var gate = new HandlerGate();
        var callbackDone = false;
        var options = Options(new FakeTimeProvider(), size: 1);
        options.OnBatchCompleted = _ => Volatile.Write(ref callbackDone, true);
        var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                await gate.PassAsync();
                return jobs;
            },
            options);
        batcher.Start();
        batcher.TryAdd(1);
        await gate.WhenEnteredAsync(1);

        Task stop = batcher.StopAsync();
        Assert.False(stop.IsCompleted);

        gate.Open();
        await stop.Guarded();
        Assert.True(Volatile.Read(ref callbackDone), "StopAsync completed before the completion callback ran");
        Assert.Equal(1, batcher.Counters.Succeeded);
    }

    [Fact]
    public async Task StopAsync_CalledRepeatedlyAndConcurrently_StopsOnceAndAllCallsComplete()
    {
        var recorder = new Recorder<int>();
        var batcher = new Batcher<int, int>(recorder.Echo, Options(new FakeTimeProvider()));
        batcher.Start();
        batcher.TryAdd(1);

        Task[] stops = [batcher.StopAsync(), batcher.StopAsync(), batcher.DisposeAsync().AsTask(), Task.Run(() => batcher.StopAsync())];
        await Task.WhenAll(stops).Guarded();
        await batcher.StopAsync().Guarded();

        Assert.Equal([1], Assert.Single(recorder.Batches));
    }

    [Fact]
    public async Task DisposeAsync_PendingJobs_DrainsLikeStop()
    {
        var recorder = new Recorder<int>();
        var batcher = new Batcher<int, int>(recorder.Echo, Options(new FakeTimeProvider()));
        batcher.Start();
        batcher.TryAdd(1);
        batcher.TryAdd(2);

        await batcher.DisposeAsync().Guarded();

        Assert.Equal([1, 2], Assert.Single(recorder.Batches));
        Assert.False(batcher.TryAdd(3));
    }

    [Fact]
    public async Task StopAsync_BeforeStart_DrainsBufferedJobs()
    {
        var recorder = new Recorder<int>();
        var batcher = new Batcher<int, int>(recorder.Echo, Options(new FakeTimeProvider()));
        batcher.TryAdd(1);
        Task<int> awaited = batcher.AddAndWaitAsync(2).AsTask();

        await batcher.StopAsync().Guarded();

        Assert.Equal(2, await awaited.Guarded());
        Assert.Equal([1, 2], Assert.Single(recorder.Batches));
    }

    [Fact]
    public async Task StopAsync_DeadlineFires_CancelsHandlerTokenFailsEveryJobAndReturnsNormally()
    {
        var time = new FakeTimeProvider();
        var gate = new HandlerGate();
        var deadLetters = new List<DeadLetter<int>>();
        var options = Options(time, size: 1);
        options.OnDeadLetter = d =>
        {
            lock (deadLetters)
            {
                deadLetters.Add(d);
            }
        };
        CancellationToken handlerToken = default;
        var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                handlerToken = ct;

                // A handler that ignores its token: the stop must not wait for it.
                await gate.PassAsync();
                return jobs;
            },
            options);
        batcher.Start();
        Task<int> inFlight = batcher.AddAndWaitAsync(1).AsTask();
        await gate.WhenEnteredAsync(1);
        Task<int> pending = batcher.AddAndWaitAsync(2).AsTask();
        batcher.TryAdd(3);
        Assert.False(handlerToken.IsCancellationRequested);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5), time);
        Task stop = batcher.StopAsync(deadline.Token);
        time.Advance(TimeSpan.FromSeconds(5));
        await stop.Guarded();

        Assert.True(handlerToken.IsCancellationRequested, "the stop deadline must cancel the handler's token");
        await Assert.ThrowsAsync<BatcherStoppedException>(() => inFlight.Guarded());
        await Assert.ThrowsAsync<BatcherStoppedException>(() => pending.Guarded());
        Assert.Equal(3, batcher.Counters.Failed);
        Assert.Equal(0, batcher.Counters.Succeeded);
        Assert.Equal(3, deadLetters.Count);
        Assert.All(deadLetters, d => Assert.Equal(DeadLetterReason.Stopped, d.Reason));
        gate.Open();
    }

    [Fact]
    public async Task HandlerToken_NormalRunLifetimeCancelAndStop_IsNeverCancelled()
    {
        using var lifetime = new CancellationTokenSource();
        var gate = new HandlerGate();
        var tokens = new List<CancellationToken>();
        var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                lock (tokens)
                {
                    tokens.Add(ct);
                }

                if (jobs[0] == 3)
                {
                    await gate.PassAsync();
                }

                return jobs;
            },
            Options(new FakeTimeProvider(), size: 1),
            lifetime.Token);
        batcher.Start();
        await batcher.AddAndWaitAsync(1).Guarded();
        await batcher.AddAndWaitAsync(2).Guarded();
        Task<int> third = batcher.AddAndWaitAsync(3).AsTask();
        await gate.WhenEnteredAsync(1);

        lifetime.Cancel();
        Task stop = batcher.StopAsync(CancellationToken.None);
        Assert.All(tokens, t => Assert.False(t.IsCancellationRequested));
        gate.Open();
        await stop.Guarded();

        Assert.Equal(3, await third.Guarded());
        Assert.Equal(3, tokens.Count);
        Assert.All(tokens, t => Assert.False(t.IsCancellationRequested));
    }

    [Fact]
    public async Task StopAsync_DeadlineNotReached_ReturnsAfterANormalDrain()
    {
        var time = new FakeTimeProvider();
        var batcher = new Batcher<int, int>((jobs, ct) => jobs, Options(time));
        batcher.Start();
        Task<int> awaited = batcher.AddAndWaitAsync(1).AsTask();

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5), time);
        await batcher.StopAsync(deadline.Token).Guarded();

        Assert.Equal(1, await awaited.Guarded());
        Assert.Equal(0, batcher.Counters.Failed);
    }

    [Fact]
    public async Task AddAsync_WaitingForSpaceWhenStopBegins_IsRefusedWithBatcherStopped()
    {
        var batcher = new Batcher<int, int>((jobs, ct) => jobs, Options(new FakeTimeProvider(), size: 2, capacity: 2));
        batcher.TryAdd(1);
        batcher.TryAdd(2);
        Task waitingAdd = batcher.AddAsync(3).AsTask();
        Task<int> waitingAwait = batcher.AddAndWaitAsync(4).AsTask();
        Assert.False(waitingAdd.IsCompleted);

        Task stop = batcher.StopAsync();

        await Assert.ThrowsAsync<BatcherStoppedException>(() => waitingAdd.Guarded());
        await Assert.ThrowsAsync<BatcherStoppedException>(() => waitingAwait.Guarded());
        await stop.Guarded();
        Assert.Equal(2, batcher.Counters.Accepted);
        Assert.Equal(2, batcher.Counters.Succeeded);
    }

    [Fact]
    public async Task StopAsync_DeadlineAlreadyCancelled_FailsWhatIsLeftAndReturnsNormally()
    {
        var gate = new HandlerGate();
        var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                await gate.PassAsync();
                return jobs;
            },
            Options(new FakeTimeProvider(), size: 1));
        batcher.Start();
        Task<int> inFlight = batcher.AddAndWaitAsync(1).AsTask();
        await gate.WhenEnteredAsync(1);
        Task<int> pending = batcher.AddAndWaitAsync(2).AsTask();

        await batcher.StopAsync(new CancellationToken(canceled: true)).Guarded();

        await Assert.ThrowsAsync<BatcherStoppedException>(() => inFlight.Guarded());
        await Assert.ThrowsAsync<BatcherStoppedException>(() => pending.Guarded());
        Assert.Equal(BatcherState.Stopped, batcher.State);
        gate.Open();
    }
    /// <summary>
    /// A host's lifetime token outlives every batcher built on it. Once stopped, a batcher must not stay reachable from
    /// the token through its registration, or each one built and stopped in a long-running process leaks.
    /// </summary>
    [Fact]
    public async Task StopAsync_LifetimeTokenLivesOn_BatcherIsReleasedForCollection()
    {
        using var lifetime = new CancellationTokenSource();

        WeakReference batcher = await StartUseAndStopAsync(lifetime.Token);

        // The stop completes from the loop's last pass, which may still be returning on its pool thread (a stack root)
        // on a loaded machine: collect again, briefly, until that thread is done.
        for (int i = 0; i < 100 && batcher.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            if (batcher.IsAlive)
            {
                await Task.Delay(10);
            }
        }

        Assert.False(batcher.IsAlive, "The stopped batcher is still reachable, from its lifetime token's registration.");
        Assert.False(lifetime.IsCancellationRequested);
    }

    private static async Task<WeakReference> StartUseAndStopAsync(CancellationToken lifetime)
    {
        var batcher = new Batcher<int, int>((jobs, ct) => jobs, Options(new FakeTimeProvider()), lifetime);
        batcher.Start();
        Task<int> awaited = batcher.AddAndWaitAsync(1, CancellationToken.None).AsTask();
        await batcher.StopAsync(CancellationToken.None).Guarded();
        Assert.Equal(1, await awaited.Guarded());
        return new WeakReference(batcher);
    }
}
