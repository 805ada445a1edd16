using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Tinybatch.Extensions.Hosting;

namespace Tinybatch.Extensions.Hosting.Tests;

public sealed class HostLifecycleTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private static HostApplicationBuilder CreateBuilder()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddFakeLogging();
        return builder;
    }

    [Fact]
    public async Task StopAsync_JobsStillPending_EveryJobProcessedExactlyOnce()
    {
        const int Jobs = 1007; // not a multiple of the batch size: the last 7 wait for the stop to dispatch them
        var processed = new ConcurrentDictionary<int, int>();
        HostApplicationBuilder builder = CreateBuilder();
        builder.Services
            .AddBatcher<int, int>("orders", o =>
            {
                o.MaxBatchSize = 50;
                o.MaxBatchDelay = Timeout.InfiniteTimeSpan; // size-only: nothing but the drain dispatches the tail
            })
            .WithHandler((sp, jobs, ct) =>
            {
                foreach (int job in jobs)
                {
                    processed.AddOrUpdate(job, 1, (_, n) => n + 1);
                }

                return ValueTask.FromResult(jobs);
            });
        using IHost host = builder.Build();

        await host.StartAsync().WaitAsync(Guard);
        Batcher<int, int> batcher = host.Services.GetRequiredService<Batcher<int, int>>();
        Assert.Equal(BatcherState.Running, batcher.State);
        for (int i = 0; i < Jobs; i++)
        {
            await batcher.AddAsync(i);
        }

        await host.StopAsync().WaitAsync(Guard);

        Assert.Equal(BatcherState.Stopped, batcher.State);
        Assert.Equal(Jobs, processed.Count);
        Assert.All(processed, p => Assert.Equal(1, p.Value));
        Assert.Equal(Jobs, batcher.Counters.Succeeded);
        Assert.Equal(0, batcher.Counters.Failed);
        FakeLogRecord drained = Assert.Single(host.Services.GetFakeLogCollector().GetSnapshot(), r => r.Id.Name == "Drained");
        Assert.Equal(LogLevel.Information, drained.Level);
        Assert.Equal(Jobs.ToString(System.Globalization.CultureInfo.InvariantCulture), drained.GetStructuredStateValue("Succeeded"));
    }

    [Fact]
    public async Task StopAsync_ProducerRegisteredBeforeBatcher_JobsAddedWhileProducerStopsAreProcessed()
    {
        var processed = new ConcurrentBag<int>();
        HostApplicationBuilder builder = CreateBuilder();

        // Registered first, so it stops last among plain hosted services: the batcher must still accept its final jobs.
        builder.Services.AddSingleton<Producer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Producer>());
        builder.Services
            .AddBatcher<int, int>("events", o => o.MaxBatchDelay = TimeSpan.FromMilliseconds(5))
            .WithHandler((sp, jobs, ct) =>
            {
                foreach (int job in jobs)
                {
                    processed.Add(job);
                }

                return ValueTask.FromResult(jobs);
            });
        using IHost host = builder.Build();
        Producer producer = host.Services.GetRequiredService<Producer>();

        await host.StartAsync().WaitAsync(Guard);
        await producer.ReachedHundred.Task.WaitAsync(Guard);
        await host.StopAsync().WaitAsync(Guard);

        Assert.Null(producer.Failure);
        Assert.True(producer.Produced >= 110, $"produced {producer.Produced}");
        Assert.Equal(Enumerable.Range(0, producer.Produced), processed.Order());
    }

    [Fact]
    public async Task StopAsync_HandlerBlocksPastShutdownTimeout_JobsFailWithBatcherStoppedExceptionAndErrorIsLogged()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        HostApplicationBuilder builder = CreateBuilder();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        builder.Services
            .AddBatcher<int, int>("stuck", o =>
            {
                o.MaxBatchSize = 2;
                o.MaxBatchDelay = TimeSpan.Zero;
            })
            .WithHandler(async (sp, jobs, ct) =>
            {
                entered.TrySetResult();
                await release.Task; // ignores its token on purpose: the worst case
                return jobs;
            });
        using IHost host = builder.Build();
        await host.StartAsync().WaitAsync(Guard);
        Batcher<int, int> batcher = host.Services.GetRequiredService<Batcher<int, int>>();

        Task<int>[] results = [.. Enumerable.Range(0, 5).Select(i => batcher.AddAndWaitAsync(i).AsTask())];
        await entered.Task.WaitAsync(Guard);
        await host.StopAsync().WaitAsync(Guard);

        foreach (Task<int> result in results)
        {
            await Assert.ThrowsAsync<BatcherStoppedException>(() => result.WaitAsync(Guard));
        }

        FakeLogRecord timedOut = Assert.Single(host.Services.GetFakeLogCollector().GetSnapshot(), r => r.Id.Name == "ShutdownTimedOut");
        Assert.Equal(LogLevel.Error, timedOut.Level);
        Assert.Equal("5", timedOut.GetStructuredStateValue("JobCount"));
        Assert.Equal("stuck", timedOut.GetStructuredStateValue("BatcherName"));
        Assert.Equal(5, batcher.Counters.Failed);
        release.SetResult();
    }

    [Fact]
    public async Task StartAsync_TwoBatchers_BothStartAndBothDrain()
    {
        HostApplicationBuilder builder = CreateBuilder();
        builder.Services.AddBatcher<int, int>("a", o => o.MaxBatchDelay = Timeout.InfiniteTimeSpan).WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs));
        builder.Services.AddBatcher<int, int>("b", o => o.MaxBatchDelay = Timeout.InfiniteTimeSpan).WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs));
        using IHost host = builder.Build();
        await host.StartAsync().WaitAsync(Guard);
        Batcher<int, int> a = host.Services.GetRequiredKeyedService<Batcher<int, int>>("a");
        Batcher<int, int> b = host.Services.GetRequiredKeyedService<Batcher<int, int>>("b");
        Assert.Equal(BatcherState.Running, a.State);
        Assert.Equal(BatcherState.Running, b.State);
        Task<int> fromA = a.AddAndWaitAsync(1).AsTask();
        Task<int> fromB = b.AddAndWaitAsync(2).AsTask();

        await host.StopAsync().WaitAsync(Guard);

        Assert.Equal(1, await fromA.WaitAsync(Guard));
        Assert.Equal(2, await fromB.WaitAsync(Guard));
        Assert.Equal(2, host.Services.GetFakeLogCollector().GetSnapshot().Count(r => r.Id.Name == "Drained"));
    }

    /// <summary>Adds jobs until the host stops, then a final ten, as a producer flushing its own buffer would.</summary>
    private sealed class Producer(IServiceProvider services) : BackgroundService
    {
        private int _produced;

        public TaskCompletionSource ReachedHundred { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Produced => Volatile.Read(ref _produced);

        public Exception? Failure { get; private set; }

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            Batcher<int, int> batcher = services.GetRequiredService<Batcher<int, int>>();
            try
            {
                while (!stoppingToken.IsCancellationRequested)
                {
                    await batcher.AddAsync(_produced, CancellationToken.None);
                    if (Interlocked.Increment(ref _produced) == 100)
                    {
                        ReachedHundred.TrySetResult();
                    }

                    await Task.Yield();
                }

                for (int i = 0; i < 10; i++)
                {
                    await batcher.AddAsync(_produced, CancellationToken.None);
                    Interlocked.Increment(ref _produced);
                }
            }
            catch (Exception ex)
            {
                Failure = ex;
                ReachedHundred.TrySetResult();
            }
        }
    }
}
