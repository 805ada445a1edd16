using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Tinybatch.Extensions.Hosting.Internal;

namespace Tinybatch.Extensions.Hosting;

/// <summary>
/// Chooses the handler of a result-less <see cref="Batcher{TJob}"/> registered with <c>AddBatcher</c> and binds its
/// configuration.
/// </summary>
/// <typeparam name="TJob">The job type.</typeparam>
public sealed class BatcherBuilder<TJob>
{
    private readonly BatcherRegistration<Batch<TJob>> _registration;

    internal BatcherBuilder(IServiceCollection services, BatcherRegistration<Batch<TJob>> registration)
    {
        Services = services;
        _registration = registration;
    }

    /// <summary>Gets the service collection the batcher is registered in.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Gets the batcher's name: its service key and options name.</summary>
    public string Name => _registration.Name;

    /// <summary>
    /// Uses a handler type resolved from a new dependency-injection scope for each batch, so it may depend on scoped
    /// services such as a database context. <typeparamref name="THandler"/> is registered as scoped unless it is
    /// already registered.
    /// </summary>
    /// <typeparam name="THandler">The handler type.</typeparam>
    /// <returns>This builder.</returns>
    public BatcherBuilder<TJob> WithHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>()
        where THandler : class, IBatchHandler<TJob>
    {
        Services.TryAddScoped<THandler>();
        _registration.SetHandler(static (provider, batch, cancellationToken) =>
            provider.GetRequiredService<THandler>().HandleAsync(batch, cancellationToken));
        return this;
    }

    /// <summary>
    /// Uses a delegate that handles each batch. It receives the service provider of a new scope created for the batch.
    /// Returning completes every job of the batch that has no other outcome; throwing fails them. Per-job outcomes are
    /// set on the batch (<see cref="Batch{TJob}.Fail"/>, <see cref="Batch{TJob}.Retry"/>).
    /// </summary>
    /// <param name="handleBatch">The batch handler. The batch is valid only during the call.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="handleBatch"/> is null.</exception>
    public BatcherBuilder<TJob> WithHandler(Func<IServiceProvider, Batch<TJob>, CancellationToken, ValueTask> handleBatch)
    {
        ArgumentNullException.ThrowIfNull(handleBatch);
        _registration.SetHandler(handleBatch);
        return this;
    }

    /// <summary>
    /// Binds the batcher's settings from a configuration section, with the same keys and validation as
    /// <see cref="BatcherBuilder{TJob, TResult}.BindConfiguration"/>.
    /// </summary>
    /// <param name="sectionPath">The section's path in the app's <see cref="IConfiguration"/>.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="sectionPath"/> is null or empty.</exception>
    public BatcherBuilder<TJob> BindConfiguration(string sectionPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sectionPath);
        _registration.SectionPath = sectionPath;
        Services.AddOptions<BatcherOptions<TJob>>(Name).Configure<IConfiguration>((options, configuration) =>
            BatcherConfigurationReader.Bind(configuration.GetSection(sectionPath), options, errors: null));
        return this;
    }

    /// <summary>Adds code that sets options after configuration binding, for example callbacks or a weigher.</summary>
    /// <param name="configure">Sets options.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="configure"/> is null.</exception>
    public BatcherBuilder<TJob> Configure(Action<BatcherOptions<TJob>> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.AddOptions<BatcherOptions<TJob>>(Name).PostConfigure(configure);
        return this;
    }
}
