using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.DataLoader.Tests;

/// <summary>AddDataLoader with a real container: one loader per scope, its interface, names, and scope disposal both ways.</summary>
public sealed class DependencyInjectionTests
{
    private static readonly TimeSpan Guard = TestFetch<int>.Guard;

    private static ServiceProvider Build(Action<IServiceCollection> register, TimeProvider? time = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton(new TestFetch<int>());
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        register(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
    }

    private static DataLoader<int, string> CreateLoader(IServiceProvider sp, DataLoaderOptions<int> options) =>
        new(sp.GetRequiredService<TestFetch<int>>().FetchAsync, options);

    [Fact]
    public async Task AddDataLoader_Unnamed_OneLoaderPerScopeResolvableAsItsInterface()
    {
        await using ServiceProvider provider = Build(s => s.AddDataLoader<int, string>(CreateLoader));

        DataLoader<int, string> first;
        await using (AsyncServiceScope scope = provider.CreateAsyncScope())
        {
            first = scope.ServiceProvider.GetRequiredService<DataLoader<int, string>>();
            Assert.Same(first, scope.ServiceProvider.GetRequiredService<IDataLoader<int, string>>());
            Assert.Equal("v1", await scope.ServiceProvider.GetRequiredService<IDataLoader<int, string>>().LoadAsync(1).WaitAsync(Guard));
        }

        await using AsyncServiceScope second = provider.CreateAsyncScope();
        Assert.NotSame(first, second.ServiceProvider.GetRequiredService<DataLoader<int, string>>());
    }

    [Fact]
    public async Task AddDataLoader_ScopeDisposedSynchronously_DisposesTheLoaderAndFailsItsPendingLoad()
    {
        var time = new FakeTimeProvider();
        using ServiceProvider provider = Build(
            s => s.AddDataLoader<int, string>((sp, options) =>
            {
                options.MaxBatchDelay = TimeSpan.FromHours(1);
                return CreateLoader(sp, options);
            }),
            time);

        Task<string> pending;
        using (IServiceScope scope = provider.CreateScope())
        {
            pending = scope.ServiceProvider.GetRequiredService<IDataLoader<int, string>>().LoadAsync(1);
        } // a plain using: no "only implements IAsyncDisposable" error

        var ex = await Assert.ThrowsAsync<BatcherStoppedException>(() => pending.WaitAsync(Guard));
        Assert.Contains("key '1'", ex.Message, StringComparison.Ordinal);
        Assert.Empty(provider.GetRequiredService<TestFetch<int>>().Batches);
    }

    [Fact]
    public async Task AddDataLoader_ScopeDisposedAsynchronously_DrainsThePendingLoad()
    {
        var time = new FakeTimeProvider();
        await using ServiceProvider provider = Build(
            s => s.AddDataLoader<int, string>((sp, options) =>
            {
                options.MaxBatchDelay = TimeSpan.FromHours(1);
                return CreateLoader(sp, options);
            }),
            time);

        Task<string> pending;
        await using (AsyncServiceScope scope = provider.CreateAsyncScope())
        {
            pending = scope.ServiceProvider.GetRequiredService<DataLoader<int, string>>().LoadAsync(1);
        }

        Assert.Equal("v1", await pending.WaitAsync(Guard));
    }

    [Fact]
    public async Task AddDataLoader_TimeProviderRegistered_LoaderRunsOnIt()
    {
        var time = new FakeTimeProvider();
        await using ServiceProvider provider = Build(s => s.AddDataLoader<int, string>(CreateLoader), time);
        await using AsyncServiceScope scope = provider.CreateAsyncScope();
        DataLoader<int, string> loader = scope.ServiceProvider.GetRequiredService<DataLoader<int, string>>();

        Task<string> load = loader.LoadAsync(1);
        await loader.IdleAsync();
        Assert.False(load.IsCompleted);
        time.Advance(DataLoaderOptions.DefaultMaxBatchDelay);

        Assert.Equal("v1", await load.WaitAsync(Guard));
    }

    [Fact]
    public async Task AddDataLoader_Named_EachResolvedByItsKeyWithItsName()
    {
        await using ServiceProvider provider = Build(s => s
            .AddDataLoader<int, string>("upper", (sp, o) => new DataLoader<int, string>((keys, ct) => ValueTask.FromResult<IReadOnlyList<string>>([.. keys.Select(k => "U" + k)]), o))
            .AddDataLoader<int, string>("lower", (sp, o) => new DataLoader<int, string>((keys, ct) => ValueTask.FromResult<IReadOnlyList<string>>([.. keys.Select(k => "l" + k)]), o)));
        await using AsyncServiceScope scope = provider.CreateAsyncScope();

        IDataLoader<int, string> upper = scope.ServiceProvider.GetRequiredKeyedService<IDataLoader<int, string>>("upper");
        DataLoader<int, string> lower = scope.ServiceProvider.GetRequiredKeyedService<DataLoader<int, string>>("lower");

        Assert.Equal("U1", await upper.LoadAsync(1).WaitAsync(Guard));
        Assert.Equal("l1", await lower.LoadAsync(1).WaitAsync(Guard));
        Assert.Equal("upper", ((DataLoader<int, string>)upper).Name);
        Assert.Equal("lower", lower.Name);
        Assert.Null(scope.ServiceProvider.GetService<DataLoader<int, string>>());
    }

    [Fact]
    public void AddDataLoader_SameNameTwice_ThrowsArgumentExceptionNamingIt()
    {
        var services = new ServiceCollection();
        services.AddDataLoader<int, string>("authors", CreateLoader);

        var ex = Assert.Throws<ArgumentException>(() => services.AddDataLoader<int, string>("authors", CreateLoader));
        Assert.Contains("'authors'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddDataLoader_UnnamedTwice_ThrowsInvalidOperationException()
    {
        var services = new ServiceCollection();
        services.AddDataLoader<int, string>(CreateLoader);

        var ex = Assert.Throws<InvalidOperationException>(() => services.AddDataLoader<int, string>(CreateLoader));
        Assert.Contains("DataLoader<Int32, String>", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddGroupedDataLoader_UnnamedAndNamed_ResolvedPerScopeAsTheirInterface()
    {
        static GroupedDataLoader<int, int> Create(IServiceProvider sp, DataLoaderOptions<int> options) =>
            new((keys, ct) => ValueTask.FromResult(keys.SelectMany(k => Enumerable.Repeat(k, k)).ToLookup(v => v)), options);
        await using ServiceProvider provider = Build(s => s.AddGroupedDataLoader<int, int>(Create).AddGroupedDataLoader<int, int>("posts", Create));
        await using AsyncServiceScope scope = provider.CreateAsyncScope();

        IGroupedDataLoader<int, int> unnamed = scope.ServiceProvider.GetRequiredService<IGroupedDataLoader<int, int>>();
        IGroupedDataLoader<int, int> named = scope.ServiceProvider.GetRequiredKeyedService<IGroupedDataLoader<int, int>>("posts");

        Assert.Same(unnamed, scope.ServiceProvider.GetRequiredService<GroupedDataLoader<int, int>>());
        Assert.NotSame(unnamed, named);
        Assert.Equal([3, 3, 3], await unnamed.LoadAsync(3).WaitAsync(Guard));
        Assert.Equal([2, 2], await named.LoadAsync(2).WaitAsync(Guard));
        Assert.Equal("posts", ((GroupedDataLoader<int, int>)named).Name);
    }
}
