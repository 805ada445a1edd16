using Tinybatch;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers Tinybatch data loaders in an <see cref="IServiceCollection"/>: one loader per scope by default (one per
/// web request), resolvable as its concrete type and as its interface, disposed with the scope.
/// </summary>
public static class DataLoaderServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="DataLoader{TKey, TValue}"/> and <see cref="IDataLoader{TKey, TValue}"/> (the same
    /// instance), created by <paramref name="create"/> once per scope (by default).
    /// </summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="create">
    /// Creates the loader from the scope's services and the options to pass to its constructor, for example
    /// <c>(sp, options) =&gt; new DataLoader&lt;int, Author&gt;(sp.GetRequiredService&lt;AuthorStore&gt;().GetAuthorsAsync, options)</c>.
    /// The options come with the container's <see cref="TimeProvider"/> if one is registered; change them as needed.
    /// </param>
    /// <param name="lifetime">The loader's lifetime; <see cref="ServiceLifetime.Scoped"/> (the default) keeps its cache for one request.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="create"/> is null.</exception>
    /// <exception cref="InvalidOperationException">An unnamed loader of these types is already registered; give them names.</exception>
    public static IServiceCollection AddDataLoader<TKey, TValue>(
        this IServiceCollection services,
        Func<IServiceProvider, DataLoaderOptions<TKey>, DataLoader<TKey, TValue>> create,
        ServiceLifetime lifetime = ServiceLifetime.Scoped)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(create);
        return Register<TKey, DataLoader<TKey, TValue>, IDataLoader<TKey, TValue>>(services, null, create, lifetime);
    }

    /// <summary>
    /// Registers a named <see cref="DataLoader{TKey, TValue}"/> and <see cref="IDataLoader{TKey, TValue}"/> (the same
    /// instance) as keyed services (key <paramref name="name"/>, e.g. <c>[FromKeyedServices("authors")]</c>), created by
    /// <paramref name="create"/> once per scope (by default). Its options' <see cref="DataLoaderOptions.Name"/> is <paramref name="name"/>.
    /// </summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The loader's name: its service key, and its name in exception messages and metrics.</param>
    /// <param name="create">Creates the loader from the scope's services and the options to pass to its constructor.</param>
    /// <param name="lifetime">The loader's lifetime; <see cref="ServiceLifetime.Scoped"/> (the default) keeps its cache for one request.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/>, <paramref name="name"/> or <paramref name="create"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, or a loader of these types already has it.</exception>
    public static IServiceCollection AddDataLoader<TKey, TValue>(
        this IServiceCollection services,
        string name,
        Func<IServiceProvider, DataLoaderOptions<TKey>, DataLoader<TKey, TValue>> create,
        ServiceLifetime lifetime = ServiceLifetime.Scoped)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(create);
        return Register<TKey, DataLoader<TKey, TValue>, IDataLoader<TKey, TValue>>(services, name, create, lifetime);
    }

    /// <summary>
    /// Registers a <see cref="GroupedDataLoader{TKey, TValue}"/> and <see cref="IGroupedDataLoader{TKey, TValue}"/>
    /// (the same instance), created by <paramref name="create"/> once per scope (by default).
    /// </summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TValue">The type of each value of a key.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="create">Creates the loader from the scope's services and the options to pass to its constructor.</param>
    /// <param name="lifetime">The loader's lifetime; <see cref="ServiceLifetime.Scoped"/> (the default) keeps its cache for one request.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="create"/> is null.</exception>
    /// <exception cref="InvalidOperationException">An unnamed grouped loader of these types is already registered; give them names.</exception>
    public static IServiceCollection AddGroupedDataLoader<TKey, TValue>(
        this IServiceCollection services,
        Func<IServiceProvider, DataLoaderOptions<TKey>, GroupedDataLoader<TKey, TValue>> create,
        ServiceLifetime lifetime = ServiceLifetime.Scoped)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(create);
        return Register<TKey, GroupedDataLoader<TKey, TValue>, IGroupedDataLoader<TKey, TValue>>(services, null, create, lifetime);
    }

    /// <summary>
    /// Registers a named <see cref="GroupedDataLoader{TKey, TValue}"/> and <see cref="IGroupedDataLoader{TKey, TValue}"/>
    /// (the same instance) as keyed services (key <paramref name="name"/>), created by <paramref name="create"/> once
    /// per scope (by default). Its options' <see cref="DataLoaderOptions.Name"/> is <paramref name="name"/>.
    /// </summary>
    /// <typeparam name="TKey">The key type.</typeparam>
    /// <typeparam name="TValue">The type of each value of a key.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The loader's name: its service key, and its name in exception messages and metrics.</param>
    /// <param name="create">Creates the loader from the scope's services and the options to pass to its constructor.</param>
    /// <param name="lifetime">The loader's lifetime; <see cref="ServiceLifetime.Scoped"/> (the default) keeps its cache for one request.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/>, <paramref name="name"/> or <paramref name="create"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, or a grouped loader of these types already has it.</exception>
    public static IServiceCollection AddGroupedDataLoader<TKey, TValue>(
        this IServiceCollection services,
        string name,
        Func<IServiceProvider, DataLoaderOptions<TKey>, GroupedDataLoader<TKey, TValue>> create,
        ServiceLifetime lifetime = ServiceLifetime.Scoped)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(create);
        return Register<TKey, GroupedDataLoader<TKey, TValue>, IGroupedDataLoader<TKey, TValue>>(services, name, create, lifetime);
    }

    /// <summary>
    /// Registers a loader and its interface (the same instance): unnamed, or keyed by <paramref name="name"/>, whose
    /// options then carry that name.
    /// </summary>
    private static IServiceCollection Register<TKey, TLoader, TService>(
        IServiceCollection services,
        string? name,
        Func<IServiceProvider, DataLoaderOptions<TKey>, TLoader> create,
        ServiceLifetime lifetime)
        where TKey : notnull
        where TLoader : class, TService
        where TService : class
    {
        ThrowIfRegistered(services, typeof(TLoader), name);
        if (name is null)
        {
            services.Add(new ServiceDescriptor(typeof(TLoader), sp => create(sp, NewOptions<TKey>(sp, null)), lifetime));
            services.Add(new ServiceDescriptor(typeof(TService), static sp => sp.GetRequiredService<TLoader>(), lifetime));
        }
        else
        {
            services.Add(new ServiceDescriptor(typeof(TLoader), name, (sp, _) => create(sp, NewOptions<TKey>(sp, name)), lifetime));
            services.Add(new ServiceDescriptor(typeof(TService), name, static (sp, key) => sp.GetRequiredKeyedService<TLoader>(key), lifetime));
        }

        return services;
    }

    private static DataLoaderOptions<TKey> NewOptions<TKey>(IServiceProvider services, string? name)
    {
        var options = new DataLoaderOptions<TKey> { TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System };
        if (name is not null)
        {
            options.Name = name;
        }

        return options;
    }

    private static void ThrowIfRegistered(IServiceCollection services, Type loaderType, string? name)
    {
        foreach (ServiceDescriptor descriptor in services)
        {
            if (descriptor.ServiceType != loaderType)
            {
                continue;
            }

            if (name is null && !descriptor.IsKeyedService)
            {
                throw new InvalidOperationException(
                    $"An unnamed {Describe(loaderType)} is already registered; register several with names (AddDataLoader(name, ...)).");
            }

            if (name is not null && descriptor.IsKeyedService && Equals(descriptor.ServiceKey, name))
            {
                throw new ArgumentException($"A {Describe(loaderType)} named '{name}' is already registered; names must be unique.", nameof(name));
            }
        }
    }

    private static string Describe(Type loaderType) =>
        $"{loaderType.Name[..loaderType.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", loaderType.GenericTypeArguments.Select(t => t.Name))}>";
}
