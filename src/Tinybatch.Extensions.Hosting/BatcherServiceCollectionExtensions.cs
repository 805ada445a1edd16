using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tinybatch.Extensions.Hosting.Internal;

namespace Tinybatch.Extensions.Hosting;

/// <summary>Registers Tinybatch batchers in an <see cref="IServiceCollection"/>.</summary>
public static class BatcherServiceCollectionExtensions
{
    /// <summary>
    /// Registers a named batcher: a keyed singleton <see cref="Batcher{TJob, TResult}"/> (key <paramref name="name"/>),
    /// its options (named <paramref name="name"/>, validated when the host starts) and a hosted service that starts it
    /// with the host and drains it when the host stops. While it is the only batcher of these types, it is also
    /// resolvable without a key. Choose its handler with <see cref="BatcherBuilder{TJob, TResult}.WithHandler{THandler}"/>
    /// or one of the <c>WithHandler</c> delegate overloads.
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The batcher's name: its service key, options name, metric tag and trace name.</param>
    /// <param name="configure">Sets options in code; it runs after the defaults and before configuration binding.</param>
    /// <returns>A builder to choose the handler and bind configuration.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, or a batcher of these types already has it.</exception>
    public static BatcherBuilder<TJob, TResult> AddBatcher<TJob, TResult>(
        this IServiceCollection services,
        string name,
        Action<BatcherOptions<TJob, TResult>>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        foreach (ServiceDescriptor descriptor in services)
        {
            if (descriptor.ServiceType == typeof(BatcherRegistration<TJob, TResult>)
                && descriptor.ImplementationInstance is BatcherRegistration<TJob, TResult> existing
                && existing.Name == name)
            {
                throw new ArgumentException(
                    $"A batcher named '{name}' for Batcher<{typeof(TJob).Name}, {typeof(TResult).Name}> is already registered; names must be unique.",
                    nameof(name));
            }
        }

        var registration = new BatcherRegistration<TJob, TResult>(name);
        services.AddSingleton(registration);
        services.AddKeyedSingleton(name, registration);
        services.AddOptions();

        OptionsBuilder<BatcherOptions<TJob, TResult>> options = services.AddOptions<BatcherOptions<TJob, TResult>>(name);
        options.Configure(o => o.Name = name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.AddSingleton<IValidateOptions<BatcherOptions<TJob, TResult>>>(sp => new BatcherOptionsValidator<TJob, TResult>(registration, sp));

        services.AddKeyedSingleton(name, static (sp, key) => new BatcherMonitor<TJob, TResult>(
            (string)key!,
            (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger(BatcherMonitor.LoggerCategory),
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        services.AddKeyedSingleton(name, static (sp, key) => BatcherFactory.Create<TJob, TResult>(sp, (string)key!));
        services.TryAddSingleton(static sp => BatcherFactory.ResolveSingle<TJob, TResult>(sp));

        // Not TryAddEnumerable: every batcher gets its own hosted service, even several of the same types.
        services.AddSingleton<IHostedService>(sp => new BatcherHostedService<TJob, TResult>(sp, name));
        return new BatcherBuilder<TJob, TResult>(services, registration, options);
    }
}
