using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Tinybatch.Extensions.Hosting.Internal;

namespace Tinybatch.Extensions.Hosting;

/// <summary>
/// Chooses the handler of a <see cref="Batcher{TJob, TResult}"/> registered with <c>AddBatcher</c> and binds its
/// configuration.
/// </summary>
/// <typeparam name="TJob">The job type.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
public sealed class BatcherBuilder<TJob, TResult>
{
    private readonly BatcherRegistration<Batch<TJob, TResult>> _registration;

    internal BatcherBuilder(IServiceCollection services, BatcherRegistration<Batch<TJob, TResult>> registration)
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
    public BatcherBuilder<TJob, TResult> WithHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>()
        where THandler : class, IBatchHandler<TJob, TResult>
    {
        Services.TryAddScoped<THandler>();
        _registration.SetHandler(static (provider, batch, cancellationToken) =>
            provider.GetRequiredService<THandler>().HandleAsync(batch, cancellationToken));
        return this;
    }

    /// <summary>
    /// Uses a delegate that returns one result per job, by position. It receives the service provider of a new scope
    /// created for the batch.
    /// </summary>
    /// <param name="processBatch">The batch function: result <c>i</c> belongs to job <c>i</c>. The list is valid only during the call.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="processBatch"/> is null.</exception>
    public BatcherBuilder<TJob, TResult> WithHandler(
        Func<IServiceProvider, IReadOnlyList<TJob>, CancellationToken, ValueTask<IReadOnlyList<TResult>>> processBatch)
    {
        ArgumentNullException.ThrowIfNull(processBatch);
        _registration.SetHandler(async (provider, batch, cancellationToken) =>
            batch.SetResults(await processBatch(provider, batch, cancellationToken).ConfigureAwait(false)));
        return this;
    }

    /// <summary>
    /// Uses a delegate that reports each job's outcome on the batch (a result, an exception or a retry). It receives the
    /// service provider of a new scope created for the batch.
    /// </summary>
    /// <param name="handleBatch">The batch handler.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="handleBatch"/> is null.</exception>
    public BatcherBuilder<TJob, TResult> WithHandler(
        Func<IServiceProvider, Batch<TJob, TResult>, CancellationToken, ValueTask> handleBatch)
    {
        ArgumentNullException.ThrowIfNull(handleBatch);
        _registration.SetHandler(handleBatch);
        return this;
    }

    /// <summary>
    /// Binds the batcher's settings from a configuration section, for example <c>"Tinybatch:Orders"</c>: the keys
    /// <c>MaxBatchSize</c>, <c>MaxBatchDelay</c>, <c>Mode</c>, <c>Capacity</c>, <c>OverflowPolicy</c>,
    /// <c>MaxConcurrentBatches</c>, <c>MaxBatchWeight</c>, <c>MaxBufferedWeight</c>, <c>MaxJobWeight</c>,
    /// <c>HandlerTimeout</c>, <c>Name</c> and
    /// <c>Retry:MaxAttempts</c>, <c>Retry:Delay</c>, <c>Retry:RetryFailedBatches</c>. Durations are
    /// <c>hh:mm:ss.fff</c> or <c>Infinite</c>. A value that does not parse, or an unknown key, is reported with the
    /// validation errors when the host starts.
    /// </summary>
    /// <param name="sectionPath">The section's path in the app's <see cref="IConfiguration"/>.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="sectionPath"/> is null or empty.</exception>
    public BatcherBuilder<TJob, TResult> BindConfiguration(string sectionPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sectionPath);
        _registration.SectionPath = sectionPath;
        Services.AddOptions<BatcherOptions<TJob, TResult>>(Name).Configure<IConfiguration>((options, configuration) =>
            BatcherConfigurationReader.Bind(configuration.GetSection(sectionPath), options, errors: null));
        return this;
    }

    /// <summary>Adds code that sets options after configuration binding, for example callbacks or a weigher.</summary>
    /// <param name="configure">Sets options.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="configure"/> is null.</exception>
    public BatcherBuilder<TJob, TResult> Configure(Action<BatcherOptions<TJob, TResult>> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.AddOptions<BatcherOptions<TJob, TResult>>(Name).PostConfigure(configure);
        return this;
    }
}
