using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Tinybatch.Extensions.Hosting;

namespace Tinybatch.Extensions.Hosting.Tests;

public sealed class AddBatcherTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private static ServiceProvider Build(Action<IServiceCollection> register)
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        register(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
    }

    [Fact]
    public async Task AddBatcher_DelegateHandler_ResolvesWorkingBatcher()
    {
        await using ServiceProvider provider = Build(s => s
            .AddBatcher<int, string>("format", o => o.MaxBatchDelay = TimeSpan.Zero)
            .WithHandler((sp, jobs, ct) => ValueTask.FromResult<IReadOnlyList<string>>([.. jobs.Select(j => "#" + j)])));

        Batcher<int, string> batcher = provider.GetRequiredKeyedService<Batcher<int, string>>("format");
        batcher.Start();

        Assert.Equal("#7", await batcher.AddAndWaitAsync(7).AsTask().WaitAsync(Guard));
        Assert.Equal("format", batcher.Name);
    }

    [Fact]
    public async Task AddBatcher_DelegateHandler_GetsServiceProviderOfNewScopePerBatch()
    {
        var seen = new List<int>();
        await using ServiceProvider provider = Build(s =>
        {
            s.AddScoped<ScopeProbe>();
            s.AddBatcher<int, int>("probe", o => o.MaxBatchSize = 1)
                .WithHandler((sp, jobs, ct) =>
                {
                    seen.Add(sp.GetRequiredService<ScopeProbe>().Id);
                    return ValueTask.FromResult<IReadOnlyList<int>>([.. jobs]);
                });
        });

        Batcher<int, int> batcher = provider.GetRequiredService<Batcher<int, int>>();
        batcher.Start();
        for (int i = 0; i < 3; i++)
        {
            await batcher.AddAndWaitAsync(i).AsTask().WaitAsync(Guard);
        }

        Assert.Equal(3, seen.Distinct().Count());
    }

    [Fact]
    public async Task AddBatcher_HandlerType_ResolvedFromNewScopePerBatchAndScopeDisposed()
    {
        await using ServiceProvider provider = Build(s =>
        {
            s.AddScoped<ScopeProbe>();
            s.AddSingleton<DoublingHandler.Journal>();
            s.AddBatcher<int, int>("double", o => o.MaxBatchSize = 2).WithHandler<DoublingHandler>();
        });

        Batcher<int, int> batcher = provider.GetRequiredKeyedService<Batcher<int, int>>("double");
        batcher.Start();
        ValueTask<int>[] results = [.. Enumerable.Range(1, 6).Select(i => batcher.AddAndWaitAsync(i))];
        int[] values = await Task.WhenAll(results.Select(r => r.AsTask())).WaitAsync(Guard);

        Assert.Equal([2, 4, 6, 8, 10, 12], values);
        ScopeProbe[] probes = [.. provider.GetRequiredService<DoublingHandler.Journal>().Probes];
        Assert.Equal(3, probes.Length);
        Assert.Equal(3, probes.Select(p => p.Id).Distinct().Count());
        Assert.All(probes, p => Assert.True(p.Disposed, "each batch's scope is disposed after its handler returns"));
    }

    [Fact]
    public async Task AddBatcher_TwoNames_ResolvedSideBySideByKey()
    {
        await using ServiceProvider provider = Build(s =>
        {
            s.AddBatcher<int, string>("a", o => o.MaxBatchDelay = TimeSpan.Zero)
                .WithHandler((sp, jobs, ct) => ValueTask.FromResult<IReadOnlyList<string>>([.. jobs.Select(j => "a" + j)]));
            s.AddBatcher<int, string>("b", o => o.MaxBatchDelay = TimeSpan.Zero)
                .WithHandler((sp, jobs, ct) => ValueTask.FromResult<IReadOnlyList<string>>([.. jobs.Select(j => "b" + j)]));
        });

        Batcher<int, string> a = provider.GetRequiredKeyedService<Batcher<int, string>>("a");
        Batcher<int, string> b = provider.GetRequiredKeyedService<Batcher<int, string>>("b");
        a.Start();
        b.Start();

        Assert.NotSame(a, b);
        Assert.Equal("a1", await a.AddAndWaitAsync(1).AsTask().WaitAsync(Guard));
        Assert.Equal("b1", await b.AddAndWaitAsync(1).AsTask().WaitAsync(Guard));
        Assert.Same(a, provider.GetRequiredKeyedService<Batcher<int, string>>("a"));
    }

    [Fact]
    public async Task AddBatcher_FromKeyedServicesConsumer_GetsTheNamedBatcher()
    {
        await using ServiceProvider provider = Build(s =>
        {
            s.AddBatcher<int, int>("orders").WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs));
            s.AddBatcher<int, int>("audit").WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs));
            s.AddSingleton<AuditConsumer>();
        });

        Assert.Equal("audit", provider.GetRequiredService<AuditConsumer>().Batcher.Name);
    }

    [Fact]
    public async Task AddBatcher_OneName_AlsoResolvesUnkeyed()
    {
        await using ServiceProvider provider = Build(s =>
            s.AddBatcher<int, int>("only").WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs)));

        Assert.Same(
            provider.GetRequiredKeyedService<Batcher<int, int>>("only"),
            provider.GetRequiredService<Batcher<int, int>>());
    }

    [Fact]
    public async Task AddBatcher_TwoNamesSameTypes_UnkeyedResolutionThrowsNamingBoth()
    {
        await using ServiceProvider provider = Build(s =>
        {
            s.AddBatcher<int, int>("first").WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs));
            s.AddBatcher<int, int>("second").WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs));
        });

        var ex = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<Batcher<int, int>>());
        Assert.Contains("'first'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'second'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddBatcher_DuplicateName_ThrowsArgumentException()
    {
        var services = new ServiceCollection();
        services.AddBatcher<int, int>("dup");

        var ex = Assert.Throws<ArgumentException>(() => services.AddBatcher<int, int>("dup"));
        Assert.Contains("'dup'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddBatcher_EmptyName_ThrowsArgumentException()
    {
        Assert.ThrowsAny<ArgumentException>(() => new ServiceCollection().AddBatcher<int, int>(" "));
    }

    [Fact]
    public void WithHandler_CalledTwice_ThrowsInvalidOperationException()
    {
        BatcherBuilder<int, int> builder = new ServiceCollection().AddBatcher<int, int>("twice")
            .WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs));

        Assert.Throws<InvalidOperationException>(() => builder.WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs)));
    }

    [Fact]
    public async Task AddBatcher_NoHandler_ResolutionThrowsNamingTheBatcher()
    {
        await using ServiceProvider provider = Build(s => s.AddBatcher<int, int>("headless"));

        var ex = Assert.ThrowsAny<Exception>(() => provider.GetRequiredKeyedService<Batcher<int, int>>("headless"));
        Assert.Contains("'headless'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("WithHandler", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddBatcher_TimeProviderRegistered_DrivesTheBatchDelay()
    {
        var time = new FakeTimeProvider();
        await using ServiceProvider provider = Build(s =>
        {
            s.AddSingleton<TimeProvider>(time);
            s.AddBatcher<int, int>("timed", o => o.MaxBatchDelay = TimeSpan.FromSeconds(10))
                .WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs));
        });
        Batcher<int, int> batcher = provider.GetRequiredService<Batcher<int, int>>();
        batcher.Start();

        Task<int> pending = batcher.AddAndWaitAsync(5).AsTask();
        await batcher.WhenIdleAsync().WaitAsync(Guard);
        Assert.False(pending.IsCompleted, "the delay has not passed on the fake clock");

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(5, await pending.WaitAsync(Guard));
    }

    [Fact]
    public async Task AddBatcher_MeterFactoryFromDi_MetricsRecordedThroughIt()
    {
        await using ServiceProvider provider = Build(s => s
            .AddBatcher<int, int>("metered", o => o.MaxBatchDelay = TimeSpan.Zero)
            .WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs)));
        var meterFactory = provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var accepted = new MetricCollector<long>(meterFactory, TinybatchTelemetry.MeterName, "tinybatch.job.accepted");
        Batcher<int, int> batcher = provider.GetRequiredService<Batcher<int, int>>();
        batcher.Start();

        await batcher.AddAndWaitAsync(1).AsTask().WaitAsync(Guard);
        accepted.RecordObservableInstruments();

        Assert.Equal(1, accepted.LastMeasurement?.Value);
        Assert.Equal("metered", accepted.LastMeasurement?.Tags["tinybatch.batcher.name"]);
    }

    [Fact]
    public async Task Configure_AfterRegistration_SetsOptionsAndKeepsUserCallbacks()
    {
        int completed = 0;
        await using ServiceProvider provider = Build(s => s
            .AddBatcher<int, int>("callbacks")
            .WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs))
            .Configure(o =>
            {
                o.MaxBatchDelay = TimeSpan.Zero;
                o.OnBatchCompleted = _ => Interlocked.Increment(ref completed);
            }));
        Batcher<int, int> batcher = provider.GetRequiredService<Batcher<int, int>>();
        batcher.Start();

        await batcher.AddAndWaitAsync(1).AsTask().WaitAsync(Guard);
        await batcher.StopAsync().WaitAsync(Guard);

        Assert.Equal(1, Volatile.Read(ref completed));
    }

    private sealed class AuditConsumer([FromKeyedServices("audit")] Batcher<int, int> batcher)
    {
        public Batcher<int, int> Batcher { get; } = batcher;
    }
}
