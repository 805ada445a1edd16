using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Tinybatch.Extensions.Hosting.Internal;

/// <summary>Builds the batchers registered with <c>AddBatcher</c> from their options and the app's services.</summary>
internal static class BatcherFactory
{
    public static Batcher<TJob, TResult> Create<TJob, TResult>(IServiceProvider services, BatcherRegistration<Batch<TJob, TResult>> registration)
    {
        // Get validates (IValidateOptions) and throws OptionsValidationException listing every problem, a missing
        // handler included: resolving the batcher outside a host reports the same errors as ValidateOnStart.
        BatcherOptions<TJob, TResult> configured = services.GetRequiredService<IOptionsMonitor<BatcherOptions<TJob, TResult>>>().Get(registration.Name);

        // A copy: the monitor's cached instance stays as configured, whatever is composed below.
        var options = new BatcherOptions<TJob, TResult>();
        configured.CopyTo(options);
        UseAppServices(services, options);
        services.GetRequiredKeyedService<BatcherMonitor<TJob>>(registration).Attach(options);
        return new Batcher<TJob, TResult>(ScopePerBatch(services, registration), options);
    }

    public static Batcher<TJob> Create<TJob>(IServiceProvider services, BatcherRegistration<Batch<TJob>> registration)
    {
        BatcherOptions<TJob> configured = services.GetRequiredService<IOptionsMonitor<BatcherOptions<TJob>>>().Get(registration.Name);
        var options = new BatcherOptions<TJob>();
        configured.CopyTo(options);
        UseAppServices(services, options);
        services.GetRequiredKeyedService<BatcherMonitor<TJob>>(registration).Attach(options);
        return new Batcher<TJob>(ScopePerBatch(services, registration), options);
    }

    /// <summary>
    /// The batcher resolved without a key: allowed only while one batcher of its kind and types exists, so a second
    /// registration can never silently change which one an unkeyed consumer gets.
    /// </summary>
    public static TBatcher ResolveSingle<TBatcher, TBatch>(IServiceProvider services)
        where TBatcher : notnull
    {
        BatcherRegistration<TBatch>[] registrations = [.. services.GetServices<BatcherRegistration<TBatch>>()];
        if (registrations.Length != 1)
        {
            throw new InvalidOperationException(
                $"{registrations.Length} batchers of {TypeNames.Display(typeof(TBatcher))} are registered " +
                $"({string.Join(", ", registrations.Select(r => "'" + r.Name + "'"))}); resolve one by its key, " +
                $"for example [FromKeyedServices(\"{registrations[0].Name}\")].");
        }

        return services.GetRequiredKeyedService<TBatcher>(registrations[0].Name);
    }

    private static void UseAppServices(IServiceProvider services, BatcherOptions options)
    {
        options.MeterFactory ??= services.GetService<IMeterFactory>();
        if (ReferenceEquals(options.TimeProvider, TimeProvider.System))
        {
            options.TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System;
        }
    }

    private static Func<TBatch, CancellationToken, ValueTask> ScopePerBatch<TBatch>(IServiceProvider services, BatcherRegistration<TBatch> registration)
    {
        Func<IServiceProvider, TBatch, CancellationToken, ValueTask> handler = registration.Handler
            ?? throw new InvalidOperationException($"Batcher '{registration.Name}' has no handler: call WithHandler after AddBatcher.");
        IServiceScopeFactory scopes = services.GetRequiredService<IServiceScopeFactory>();
        return async (batch, cancellationToken) =>
        {
            // One scope per batch: scoped dependencies (a DbContext, a unit of work) live exactly as long as the batch.
            AsyncServiceScope scope;
            try
            {
                scope = scopes.CreateAsyncScope();
            }
            catch (ObjectDisposedException ex)
            {
                // The container is being disposed and stops its batchers as it goes: a batch still draining can get no
                // scope, so its jobs fail with the stop exception. A host stops its batchers before that happens.
                throw new BatcherStoppedException(
                    $"Batcher '{registration.Name}': the service provider was disposed while jobs were pending, so their " +
                    "batch could not get a scope. Stop the batcher before disposing the provider (a host does this when it stops).",
                    ex);
            }

            await using (scope.ConfigureAwait(false))
            {
                await handler(scope.ServiceProvider, batch, cancellationToken).ConfigureAwait(false);
            }
        };
    }
}
