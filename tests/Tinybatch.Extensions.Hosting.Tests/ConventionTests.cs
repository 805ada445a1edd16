using Microsoft.Extensions.DependencyInjection;

namespace Tinybatch.Extensions.Hosting.Tests;

/// <summary>The registration conventions: unnamed and named overloads, interfaces beside the concrete types.</summary>
public sealed class ConventionTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    public sealed record Order(int Id);

    private static ServiceProvider Build(Action<IServiceCollection> register)
    {
        var services = new ServiceCollection();
        register(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
    }

    [Fact]
    public async Task AddBatcher_Unnamed_ResolvesConcreteAndInterfaceUnkeyedAndByJobTypeName()
    {
        await using ServiceProvider provider = Build(s => s
            .AddBatcher<Order, int>(o => o.MaxBatchDelay = TimeSpan.Zero)
            .WithHandler((sp, jobs, ct) => ValueTask.FromResult<IReadOnlyList<int>>([.. jobs.Select(j => j.Id * 10)])));

        Batcher<Order, int> batcher = provider.GetRequiredService<Batcher<Order, int>>();
        Assert.Same(batcher, provider.GetRequiredService<IBatcher<Order, int>>());
        Assert.Same(batcher, provider.GetRequiredKeyedService<Batcher<Order, int>>("Order"));
        Assert.Same(batcher, provider.GetRequiredKeyedService<IBatcher<Order, int>>("Order"));
        Assert.Equal("Order", batcher.Name);

        batcher.Start();
        Assert.Equal(70, await provider.GetRequiredService<IBatcher<Order, int>>().AddAndWaitAsync(new Order(7)).AsTask().WaitAsync(Guard));
    }

    [Fact]
    public async Task AddBatcher_UnnamedGenericJobType_NamedAsCSharpWritesIt()
    {
        await using ServiceProvider provider = Build(s => s
            .AddBatcher<KeyValuePair<string, int>>()
            .WithHandler((sp, batch, ct) => ValueTask.CompletedTask));

        Assert.Equal("KeyValuePair<String, Int32>", provider.GetRequiredService<Batcher<KeyValuePair<string, int>>>().Name);
    }

    [Fact]
    public async Task AddBatcher_Named_InterfaceByKeyIsTheNamedInstance()
    {
        await using ServiceProvider provider = Build(s =>
        {
            s.AddBatcher<int, int>("a").WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs));
            s.AddBatcher<int, int>("b").WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs));
        });

        Assert.Same(provider.GetRequiredKeyedService<Batcher<int, int>>("b"), provider.GetRequiredKeyedService<IBatcher<int, int>>("b"));
        Assert.NotSame(provider.GetRequiredKeyedService<IBatcher<int, int>>("a"), provider.GetRequiredKeyedService<IBatcher<int, int>>("b"));
        var ex = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IBatcher<int, int>>());
        Assert.Contains("'a', 'b'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddBatcher_BothKindsOfOneJobTypeUnnamed_ResolvedSideBySide()
    {
        var handled = new List<int>();
        await using ServiceProvider provider = Build(s =>
        {
            s.AddBatcher<int>(o => o.MaxBatchDelay = TimeSpan.Zero).WithHandler((sp, batch, ct) =>
            {
                lock (handled)
                {
                    handled.AddRange(batch);
                }

                return ValueTask.CompletedTask;
            });
            s.AddBatcher<int, string>(o => o.MaxBatchDelay = TimeSpan.Zero)
                .WithHandler((sp, jobs, ct) => ValueTask.FromResult<IReadOnlyList<string>>([.. jobs.Select(j => "#" + j)]));
        });
        Batcher<int> events = provider.GetRequiredService<Batcher<int>>();
        Batcher<int, string> lookups = provider.GetRequiredService<Batcher<int, string>>();
        events.Start();
        lookups.Start();

        await provider.GetRequiredService<IBatcher<int>>().AddAsync(1);
        await events.FlushAsync().WaitAsync(Guard);

        Assert.Equal("#2", await lookups.AddAndWaitAsync(2).AsTask().WaitAsync(Guard));
        Assert.Equal([1], handled);
        Assert.Equal("Int32", events.Name);
        Assert.Equal("Int32", lookups.Name);
    }

    [Fact]
    public void AddBatcher_UnnamedTwice_ThrowsArgumentExceptionNamingTheDefaultName()
    {
        var services = new ServiceCollection();
        services.AddBatcher<Order>();

        var ex = Assert.Throws<ArgumentException>(() => services.AddBatcher<Order>());
        Assert.Contains("'Order'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddBatcher_ExtensionMethods_LiveInTheDependencyInjectionNamespace()
    {
        Assert.Equal("Microsoft.Extensions.DependencyInjection", typeof(BatcherServiceCollectionExtensions).Namespace);
    }
}
