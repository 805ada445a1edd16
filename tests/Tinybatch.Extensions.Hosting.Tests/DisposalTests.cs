using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.Extensions.Hosting.Tests;

/// <summary>
/// The container owns the batchers: disposing it with <c>using</c> or <c>await using</c> works, and so does disposing
/// the scopes that application code creates. Jobs still pending when the container goes fail with the stop exception
/// (no scope can be created for their batch any more); a host, or the app, stops the batchers first to drain them.
/// </summary>
public sealed class DisposalTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    /// <summary>A scoped dependency that can only be disposed asynchronously, as some database connections are.</summary>
    public sealed class AsyncOnlyResource : IAsyncDisposable
    {
        public bool Disposed { get; private set; }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }

    private static ServiceProvider Build(FakeTimeProvider time, List<AsyncOnlyResource>? seen = null) =>
        new ServiceCollection()
            .AddSingleton<TimeProvider>(time)
            .AddScoped<AsyncOnlyResource>()
            .AddBatcher<int, int>(o => o.MaxBatchDelay = TimeSpan.FromMinutes(1))
            .WithHandler((sp, jobs, ct) =>
            {
                seen?.Add(sp.GetRequiredService<AsyncOnlyResource>());
                return ValueTask.FromResult(jobs);
            })
            .Services
            .AddBatcher<string>(o => o.MaxBatchDelay = TimeSpan.FromMinutes(1))
            .WithHandler((sp, batch, ct) => ValueTask.CompletedTask)
            .Services
            .BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });

    [Fact]
    public async Task Dispose_ProviderWithUsing_DoesNotThrowAndPendingJobsFailWithStopException()
    {
        var time = new FakeTimeProvider();
        Task<int> pending;
        Batcher<string> events;
        using (ServiceProvider provider = Build(time))
        {
            IBatcher<int, int> batcher = provider.GetRequiredService<IBatcher<int, int>>();
            events = provider.GetRequiredService<Batcher<string>>();
            provider.GetRequiredService<Batcher<int, int>>().Start();
            events.Start();
            pending = batcher.AddAndWaitAsync(1).AsTask();
            Assert.True(events.TryAdd("e"));
        }

        await Assert.ThrowsAsync<BatcherStoppedException>(() => pending.WaitAsync(Guard));
        await events.Completion.WaitAsync(Guard);
        Assert.Equal(BatcherState.Stopped, events.State);
        Assert.Equal(1, events.Counters.Failed); // the pending event is not lost silently: it failed, and is counted
        Assert.False(events.TryAdd("late"), "a disposed batcher refuses jobs");
    }

    [Fact]
    public async Task DisposeAsync_ProviderWithAwaitUsing_DoesNotThrowAndPendingJobsFailWithStopExceptionSayingWhatToDo()
    {
        var time = new FakeTimeProvider();
        Task<int> pending;
        Batcher<string> events;
        await using (ServiceProvider provider = Build(time))
        {
            provider.GetRequiredService<Batcher<int, int>>().Start();
            events = provider.GetRequiredService<Batcher<string>>();
            events.Start();
            pending = provider.GetRequiredService<IBatcher<int, int>>().AddAndWaitAsync(7).AsTask();
            Assert.True(events.TryAdd("e"));
        }

        var ex = await Assert.ThrowsAsync<BatcherStoppedException>(() => pending.WaitAsync(Guard));
        Assert.Contains("Stop the batcher before disposing the provider", ex.Message, StringComparison.Ordinal);
        await events.Completion.WaitAsync(Guard);
        Assert.Equal(1, events.Counters.Failed);
    }

    [Fact]
    public async Task DisposeAsync_BatcherStoppedFirst_PendingJobsDrainedThenProviderDisposes()
    {
        var time = new FakeTimeProvider();
        Task<int> pending;
        await using (ServiceProvider provider = Build(time))
        {
            Batcher<int, int> batcher = provider.GetRequiredService<Batcher<int, int>>();
            batcher.Start();
            pending = batcher.AddAndWaitAsync(7).AsTask();
            await batcher.StopAsync().WaitAsync(Guard);
        }

        Assert.Equal(7, await pending.WaitAsync(Guard));
    }

    [Fact]
    public async Task Scopes_DisposedWithUsingAndAwaitUsing_BatcherKeepsWorkingAndHandlerScopesAreDisposedAsynchronously()
    {
        var time = new FakeTimeProvider();
        var seen = new List<AsyncOnlyResource>();
        await using ServiceProvider provider = Build(time, seen);
        provider.GetRequiredService<Batcher<int, int>>().Start();

        Task<int> first;
        using (IServiceScope scope = provider.CreateScope())
        {
            first = scope.ServiceProvider.GetRequiredService<IBatcher<int, int>>().AddAndWaitAsync(1).AsTask();
        }

        Task<int> second;
        await using (AsyncServiceScope scope = provider.CreateAsyncScope())
        {
            second = scope.ServiceProvider.GetRequiredService<IBatcher<int, int>>().AddAndWaitAsync(2).AsTask();
        }

        await provider.GetRequiredService<IBatcher<int, int>>().FlushAsync().WaitAsync(Guard);
        int[] results = await Task.WhenAll(first, second).WaitAsync(Guard);
        Assert.Equal([1, 2], results);
        AsyncOnlyResource resource = Assert.Single(seen);
        Assert.True(resource.Disposed, "the batch's scope was disposed asynchronously after its handler returned");
    }
}
