using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Tinybatch.Extensions.Hosting.Internal;

/// <summary>Builds the batchers registered with <c>AddBatcher</c> from their options and the app's services.</summary>
internal static class BatcherFactory
{
    public static Batcher<TJob, TResult> Create<TJob, TResult>(IServiceProvider services, string name)
    {
        // Get validates (IValidateOptions) and throws OptionsValidationException listing every problem, a missing
        // handler included: resolving the batcher outside a host reports the same errors as ValidateOnStart.
        BatcherOptions<TJob, TResult> configured = services.GetRequiredService<IOptionsMonitor<BatcherOptions<TJob, TResult>>>().Get(name);
        BatcherRegistration<TJob, TResult> registration = services.GetRequiredKeyedService<BatcherRegistration<TJob, TResult>>(name);
        Func<IServiceProvider, Batch<TJob, TResult>, CancellationToken, ValueTask> handler = registration.Handler
            ?? throw new InvalidOperationException($"Batcher '{name}' has no handler: call WithHandler after AddBatcher.");

        // A copy: the monitor's cached instance stays as configured, whatever is composed below.
        var options = new BatcherOptions<TJob, TResult>();
        configured.CopyTo(options);
        options.MeterFactory ??= services.GetService<IMeterFactory>();
        if (ReferenceEquals(options.TimeProvider, TimeProvider.System))
        {
            options.TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System;
        }

        BatcherMonitor<TJob, TResult> monitor = services.GetRequiredKeyedService<BatcherMonitor<TJob, TResult>>(name);
        monitor.Attach(options);

        IServiceScopeFactory scopes = services.GetRequiredService<IServiceScopeFactory>();
        return new Batcher<TJob, TResult>(
            async (batch, cancellationToken) =>
            {
                // One scope per batch: scoped dependencies (a DbContext, a unit of work) live exactly as long as the batch.
                AsyncServiceScope scope = scopes.CreateAsyncScope();
                await using (scope.ConfigureAwait(false))
                {
                    await handler(scope.ServiceProvider, batch, cancellationToken).ConfigureAwait(false);
                }
            },
            options);
    }

    /// <summary>The unkeyed <see cref="Batcher{TJob, TResult}"/>: allowed only while one batcher of these types exists.</summary>
    public static Batcher<TJob, TResult> ResolveSingle<TJob, TResult>(IServiceProvider services)
    {
        BatcherRegistration<TJob, TResult>[] registrations = [.. services.GetServices<BatcherRegistration<TJob, TResult>>()];
        if (registrations.Length != 1)
        {
            throw new InvalidOperationException(
                $"{registrations.Length} batchers of Batcher<{typeof(TJob).Name}, {typeof(TResult).Name}> are registered " +
                $"({string.Join(", ", registrations.Select(r => "'" + r.Name + "'"))}); resolve one by its key, " +
                $"for example [FromKeyedServices(\"{registrations[0].Name}\")].");
        }

        return services.GetRequiredKeyedService<Batcher<TJob, TResult>>(registrations[0].Name);
    }
}
