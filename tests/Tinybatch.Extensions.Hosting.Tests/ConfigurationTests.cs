using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Tinybatch.Extensions.Hosting;

namespace Tinybatch.Extensions.Hosting.Tests;

public sealed class ConfigurationTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private static IHost BuildHost(Dictionary<string, string?> settings, Action<IServiceCollection> register)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        register(builder.Services);
        return builder.Build();
    }

    private static ValueTask<IReadOnlyList<int>> Echo(IServiceProvider sp, IReadOnlyList<int> jobs, CancellationToken ct) => ValueTask.FromResult(jobs);

    [Fact]
    public void BindConfiguration_EveryScalar_BoundIntoNamedOptions()
    {
        using IHost host = BuildHost(
            new()
            {
                ["Tinybatch:Orders:MaxBatchSize"] = "50",
                ["Tinybatch:Orders:MaxBatchDelay"] = "00:00:00.250",
                ["Tinybatch:Orders:Mode"] = "adaptive",
                ["Tinybatch:Orders:Capacity"] = "5000",
                ["Tinybatch:Orders:OverflowPolicy"] = "DropOldest",
                ["Tinybatch:Orders:MaxConcurrentBatches"] = "4",
                ["Tinybatch:Orders:MaxBatchWeight"] = "1048576",
                ["Tinybatch:Orders:HandlerTimeout"] = "00:00:30",
                ["Tinybatch:Orders:Retry:MaxAttempts"] = "5",
                ["Tinybatch:Orders:Retry:Delay"] = "00:00:01",
                ["Tinybatch:Orders:Retry:RetryFailedBatches"] = "true",
            },
            s => s.AddBatcher<int, int>("orders").WithHandler(Echo).BindConfiguration("Tinybatch:Orders"));

        BatcherOptions<int, int> o = host.Services.GetRequiredService<IOptionsMonitor<BatcherOptions<int, int>>>().Get("orders");

        Assert.Equal(50, o.MaxBatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.MaxBatchDelay);
        Assert.Equal(BatchingMode.Adaptive, o.Mode);
        Assert.Equal(5000, o.Capacity);
        Assert.Equal(OverflowPolicy.DropOldest, o.OverflowPolicy);
        Assert.Equal(4, o.MaxConcurrentBatches);
        Assert.Equal(1_048_576, o.MaxBatchWeight);
        Assert.Equal(TimeSpan.FromSeconds(30), o.HandlerTimeout);
        Assert.Equal("orders", o.Name);
        Assert.NotNull(o.Retry);
        Assert.Equal(5, o.Retry.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(1), o.Retry.Delay);
        Assert.True(o.Retry.RetryFailedBatches);
    }

    [Fact]
    public void BindConfiguration_InfiniteKeyword_MeansTimeoutInfiniteTimeSpan()
    {
        using IHost host = BuildHost(
            new() { ["B:MaxBatchDelay"] = "Infinite", ["B:HandlerTimeout"] = "infinite" },
            s => s.AddBatcher<int, int>("b").WithHandler(Echo).BindConfiguration("B"));

        BatcherOptions<int, int> o = host.Services.GetRequiredService<IOptionsMonitor<BatcherOptions<int, int>>>().Get("b");

        Assert.Equal(Timeout.InfiniteTimeSpan, o.MaxBatchDelay);
        Assert.Equal(Timeout.InfiniteTimeSpan, o.HandlerTimeout);
    }

    [Fact]
    public void BindConfiguration_ConfigureInCode_ConfigurationWinsAndPostConfigureWinsOverBoth()
    {
        using IHost host = BuildHost(
            new() { ["B:MaxBatchSize"] = "20", ["B:Capacity"] = "999" },
            s => s.AddBatcher<int, int>("b", o => { o.MaxBatchSize = 10; o.Capacity = 100; })
                .WithHandler(Echo)
                .BindConfiguration("B")
                .Configure(o => o.Capacity = 400));

        BatcherOptions<int, int> o = host.Services.GetRequiredService<IOptionsMonitor<BatcherOptions<int, int>>>().Get("b");

        Assert.Equal(20, o.MaxBatchSize);
        Assert.Equal(400, o.Capacity);
    }

    [Fact]
    public async Task StartAsync_InvalidOptions_FailsListingEveryProblemTogether()
    {
        using IHost host = BuildHost(
            new()
            {
                ["Tinybatch:Orders:MaxBatchSize"] = "0",
                ["Tinybatch:Orders:MaxConcurrentBatches"] = "-1",
                ["Tinybatch:Orders:MaxBatchDelay"] = "soon",
                ["Tinybatch:Orders:OverflowPolicy"] = "Explode",
                ["Tinybatch:Orders:MaxBatchSise"] = "7",
                ["Tinybatch:Orders:Retry:MaxAttempts"] = "0",
            },
            s => s.AddBatcher<int, int>("orders").WithHandler(Echo).BindConfiguration("Tinybatch:Orders"));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Guard));

        string[] expected =
        [
            "MaxBatchSize must be at least 1",
            "MaxConcurrentBatches must be at least 1",
            "'Tinybatch:Orders:MaxBatchDelay' must be a duration",
            "'Tinybatch:Orders:OverflowPolicy' must be one of Wait, Reject, DropOldest, DropWrite",
            "Unknown setting 'Tinybatch:Orders:MaxBatchSise'",
            "Retry.MaxAttempts must be at least 1",
        ];
        Assert.All(expected, e => Assert.Contains(e, ex.Message, StringComparison.Ordinal));
        Assert.Equal(expected.Length, ex.Failures.Count());
        Assert.All(ex.Failures, f => Assert.StartsWith("Batcher 'orders': ", f, StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartAsync_NoHandler_FailsNamingTheBatcher()
    {
        using IHost host = BuildHost([], s => s.AddBatcher<int, int>("headless"));

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Guard));

        Assert.Contains("Batcher 'headless': No handler", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_TwoBatchersOneInvalid_OnlyTheInvalidOneReported()
    {
        using IHost host = BuildHost(
            new() { ["A:Capacity"] = "1" },
            s =>
            {
                s.AddBatcher<int, int>("a").WithHandler(Echo).BindConfiguration("A");
                s.AddBatcher<int, int>("b").WithHandler(Echo);
            });

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Guard));

        Assert.Contains("Batcher 'a': Capacity must be at least MaxBatchSize", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Batcher 'b'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_TwoInvalidBatchers_BothReportedBeforeAnythingStarts()
    {
        using IHost host = BuildHost(
            new() { ["A:Capacity"] = "1", ["B:MaxBatchSize"] = "-5" },
            s =>
            {
                s.AddBatcher<int, int>("a").WithHandler(Echo).BindConfiguration("A");
                s.AddBatcher<int, string>("b").WithHandler((sp, jobs, ct) => ValueTask.FromResult<IReadOnlyList<string>>([]))
                    .BindConfiguration("B");
            });

        var ex = await Assert.ThrowsAsync<AggregateException>(() => host.StartAsync().WaitAsync(Guard));

        string[] messages = [.. ex.InnerExceptions.OfType<OptionsValidationException>().Select(e => e.Message)];
        Assert.Equal(2, messages.Length);
        Assert.Contains(messages, m => m.Contains("Batcher 'a': Capacity", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("Batcher 'b': MaxBatchSize", StringComparison.Ordinal));
    }
}
