using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Tinybatch.Extensions.Hosting.Tests;

/// <summary><c>AddBatcher&lt;TJob&gt;</c>: the result-less batcher, with the same hosting as the other kind.</summary>
public sealed class ResultlessBatcherTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    public sealed record Click(int Id);

    /// <summary>Stands in for a table; scoped like a DbContext, and records which scope stored what.</summary>
    public sealed class ClickStore(ScopeProbe probe, ClickStore.Table table)
    {
        public void Insert(IEnumerable<Click> clicks)
        {
            foreach (Click click in clicks)
            {
                table.Rows.Add((click.Id, probe));
            }
        }

        public sealed class Table
        {
            public ConcurrentBag<(int Id, ScopeProbe Scope)> Rows { get; } = [];
        }
    }

    public sealed class ClickHandler(ClickStore store) : IBatchHandler<Click>
    {
        public ValueTask HandleAsync(Batch<Click> batch, CancellationToken cancellationToken)
        {
            store.Insert(batch);
            return ValueTask.CompletedTask;
        }
    }

    private static HostApplicationBuilder CreateBuilder(Dictionary<string, string?>? settings = null)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        builder.Services.AddScoped<ScopeProbe>();
        builder.Services.AddScoped<ClickStore>();
        builder.Services.AddSingleton<ClickStore.Table>();
        return builder;
    }

    [Fact]
    public async Task AddBatcher_HandlerTypeInHost_StartedWithHostAndDrainedAtStopInScopesPerBatch()
    {
        HostApplicationBuilder builder = CreateBuilder(new() { ["Tinybatch:Clicks:MaxBatchSize"] = "10" });
        builder.Services.AddBatcher<Click>("clicks", o => o.MaxBatchDelay = Timeout.InfiniteTimeSpan)
            .WithHandler<ClickHandler>()
            .BindConfiguration("Tinybatch:Clicks");
        using IHost host = builder.Build();

        await host.StartAsync().WaitAsync(Guard);
        IBatcher<Click> clicks = host.Services.GetRequiredService<IBatcher<Click>>();
        for (int i = 0; i < 25; i++)
        {
            Assert.True(clicks.TryAdd(new Click(i)));
        }

        await host.StopAsync().WaitAsync(Guard); // drains the last 5, which only the stop dispatches

        (int Id, ScopeProbe Scope)[] rows = [.. host.Services.GetRequiredService<ClickStore.Table>().Rows];
        Assert.Equal(Enumerable.Range(0, 25), rows.Select(r => r.Id).Order());
        Assert.Equal(3, rows.Select(r => r.Scope.Id).Distinct().Count());
        Assert.All(rows, r => Assert.True(r.Scope.Disposed, "each batch's scope is disposed after its handler returns"));
        Assert.Equal(BatcherState.Stopped, clicks.State);
        Assert.Equal(25, clicks.Counters.Succeeded);
    }

    [Fact]
    public async Task AddBatcher_DelegateHandlerFailsSomeJobs_OthersSucceed()
    {
        await using ServiceProvider provider = new ServiceCollection()
            .AddBatcher<int>("odd-fails", o => o.MaxBatchDelay = TimeSpan.Zero)
            .WithHandler((sp, batch, ct) =>
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    if (batch[i] % 2 == 1)
                    {
                        batch.Fail(i, new FormatException("odd"));
                    }
                }

                return ValueTask.CompletedTask;
            })
            .Services.BuildServiceProvider();
        Batcher<int> batcher = provider.GetRequiredKeyedService<Batcher<int>>("odd-fails");
        batcher.Start();

        for (int i = 0; i < 10; i++)
        {
            await batcher.AddAsync(i);
        }

        await batcher.StopAsync().WaitAsync(Guard);
        Assert.Equal(5, batcher.Counters.Succeeded);
        Assert.Equal(5, batcher.Counters.Failed);
    }

    [Fact]
    public void BindConfiguration_WeightSettings_BoundIntoTheNamedOptions()
    {
        HostApplicationBuilder builder = CreateBuilder(new()
        {
            ["Tinybatch:Clicks:MaxBatchWeight"] = "1000",
            ["Tinybatch:Clicks:MaxBufferedWeight"] = "50000",
            ["Tinybatch:Clicks:MaxJobWeight"] = "900",
        });
        builder.Services.AddBatcher<Click>("clicks").WithHandler<ClickHandler>().BindConfiguration("Tinybatch:Clicks");
        using IHost host = builder.Build();

        BatcherOptions<Click> options = host.Services.GetRequiredService<IOptionsMonitor<BatcherOptions<Click>>>().Get("clicks");

        Assert.Equal(1000, options.MaxBatchWeight);
        Assert.Equal(50_000, options.MaxBufferedWeight);
        Assert.Equal(900, options.MaxJobWeight);
    }

    [Fact]
    public async Task StartAsync_InvalidConfigurationAndNoHandler_HostRefusesToStartListingEveryProblem()
    {
        HostApplicationBuilder builder = CreateBuilder(new()
        {
            ["Tinybatch:Clicks:MaxBatchSize"] = "0",
            ["Tinybatch:Clicks:MaxBatchDelay"] = "soon",
            ["Tinybatch:Clicks:Retry:MaxAttempts"] = "0",
        });
        builder.Services.AddBatcher<Click>("clicks").BindConfiguration("Tinybatch:Clicks");
        using IHost host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Guard));

        Assert.Contains("Batcher 'clicks': MaxBatchSize must be at least 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'Tinybatch:Clicks:MaxBatchDelay' must be a duration", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Retry.MaxAttempts must be at least 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("No handler", ex.Message, StringComparison.Ordinal);
    }
}
