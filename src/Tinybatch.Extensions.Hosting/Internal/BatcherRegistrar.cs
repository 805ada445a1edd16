using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Tinybatch.Extensions.Hosting.Internal;

/// <summary>
/// The registrations behind every <c>AddBatcher</c> overload, for both kinds of batcher. For a batcher named N it adds:
/// the batcher type and its interface keyed N (one instance); both unkeyed while N is the only batcher of that type;
/// its options named N, validated at startup; its log monitor; and a hosted service that starts it with the host and
/// drains it when the host stops.
/// </summary>
internal static class BatcherRegistrar
{
    public static BatcherRegistration<TBatch> Register<TJob, TBatch, TOptions, TBatcher, TInterface>(
        IServiceCollection services,
        string name,
        Action<TOptions>? configure,
        Action<IConfigurationSection, TOptions, List<string>?> bind,
        Func<IServiceProvider, BatcherRegistration<TBatch>, TBatcher> create,
        Func<TBatcher, BatcherLifecycle> lifecycle)
        where TOptions : BatcherOptions, new()
        where TBatcher : class, TInterface
        where TInterface : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        foreach (ServiceDescriptor descriptor in services)
        {
            if (descriptor.ServiceType == typeof(BatcherRegistration<TBatch>)
                && descriptor.ImplementationInstance is BatcherRegistration<TBatch> existing
                && existing.Name == name)
            {
                throw new ArgumentException(
                    $"A batcher named '{name}' for {TypeNames.Display(typeof(TBatcher))} is already registered; names must be unique.",
                    nameof(name));
            }
        }

        var registration = new BatcherRegistration<TBatch>(name);
        services.AddSingleton(registration);
        services.AddOptions();

        OptionsBuilder<TOptions> options = services.AddOptions<TOptions>(name);
        options.Configure(o => o.Name = name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>>(sp => new BatcherOptionsValidator<TOptions>(
            registration, (section, errors) => bind(section, new TOptions(), errors), sp));

        // Internal services are keyed by the registration itself, so they cannot collide with anyone's names.
        services.AddKeyedSingleton(registration, (sp, _) => new BatcherMonitor<TJob>(
            name,
            (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger(BatcherMonitor.LoggerCategory),
            sp.GetService<TimeProvider>() ?? TimeProvider.System));

        services.AddKeyedSingleton(name, (sp, _) => create(sp, registration));
        services.AddKeyedSingleton<TInterface>(name, static (sp, key) => sp.GetRequiredKeyedService<TBatcher>(key));
        services.TryAddSingleton(static sp => BatcherFactory.ResolveSingle<TBatcher, TBatch>(sp));
        services.TryAddSingleton<TInterface>(static sp => sp.GetRequiredService<TBatcher>());

        // Not TryAddEnumerable: every batcher gets its own hosted service, even several of the same types.
        services.AddSingleton<IHostedService>(sp => new BatcherHostedService<TJob>(
            sp, registration, provider => lifecycle(provider.GetRequiredKeyedService<TBatcher>(name))));
        return registration;
    }
}
