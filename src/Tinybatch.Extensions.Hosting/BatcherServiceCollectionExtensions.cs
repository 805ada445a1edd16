using Tinybatch;
using Tinybatch.Extensions.Hosting;
using Tinybatch.Extensions.Hosting.Internal;

// In the namespace of IServiceCollection, as Polly, OpenTelemetry and HotChocolate place their AddXxx: no extra using.
#pragma warning disable IDE0130 // Namespace does not match folder structure
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Registers Tinybatch batchers in an <see cref="IServiceCollection"/>.</summary>
public static class BatcherServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="Batcher{TJob, TResult}"/> named after <typeparamref name="TJob"/> (for example
    /// <c>Order</c>): a singleton resolvable as <see cref="Batcher{TJob, TResult}"/> and
    /// <see cref="IBatcher{TJob, TResult}"/>, without a key or by that name. See
    /// <see cref="AddBatcher{TJob, TResult}(IServiceCollection, string, Action{BatcherOptions{TJob, TResult}}?)"/>.
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code; it runs after the defaults and before configuration binding.</param>
    /// <returns>A builder to choose the handler and bind configuration.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is null.</exception>
    /// <exception cref="ArgumentException">A batcher of these types already has the name.</exception>
    public static BatcherBuilder<TJob, TResult> AddBatcher<TJob, TResult>(
        this IServiceCollection services,
        Action<BatcherOptions<TJob, TResult>>? configure = null) =>
        services.AddBatcher<TJob, TResult>(TypeNames.Display(typeof(TJob)), configure);

    /// <summary>
    /// Registers a named <see cref="Batcher{TJob, TResult}"/>: a singleton resolvable as <see cref="Batcher{TJob, TResult}"/>
    /// and <see cref="IBatcher{TJob, TResult}"/> by the key <paramref name="name"/> (and without a key while it is the
    /// only batcher of these types), its options (named <paramref name="name"/>, validated when the host starts) and a
    /// hosted service that starts it with the host and drains it when the host stops. The container owns it and disposes
    /// it. Choose its handler with <see cref="BatcherBuilder{TJob, TResult}.WithHandler{THandler}"/> or one of the
    /// <c>WithHandler</c> delegate overloads.
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
        BatcherRegistration<Batch<TJob, TResult>> registration =
            BatcherRegistrar.Register<TJob, Batch<TJob, TResult>, BatcherOptions<TJob, TResult>, Batcher<TJob, TResult>, IBatcher<TJob, TResult>>(
                services,
                name,
                configure,
                BatcherConfigurationReader.Bind,
                BatcherFactory.Create,
                BatcherLifecycle.Of);
        return new BatcherBuilder<TJob, TResult>(services, registration);
    }

    /// <summary>
    /// Registers a result-less <see cref="Batcher{TJob}"/> named after <typeparamref name="TJob"/> (for example
    /// <c>Event</c>): a singleton resolvable as <see cref="Batcher{TJob}"/> and <see cref="IBatcher{TJob}"/>, without a
    /// key or by that name. See <see cref="AddBatcher{TJob}(IServiceCollection, string, Action{BatcherOptions{TJob}}?)"/>.
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code; it runs after the defaults and before configuration binding.</param>
    /// <returns>A builder to choose the handler and bind configuration.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is null.</exception>
    /// <exception cref="ArgumentException">A batcher of this type already has the name.</exception>
    public static BatcherBuilder<TJob> AddBatcher<TJob>(
        this IServiceCollection services,
        Action<BatcherOptions<TJob>>? configure = null) =>
        services.AddBatcher<TJob>(TypeNames.Display(typeof(TJob)), configure);

    /// <summary>
    /// Registers a named result-less <see cref="Batcher{TJob}"/>, for fire-and-forget streams: a singleton resolvable as
    /// <see cref="Batcher{TJob}"/> and <see cref="IBatcher{TJob}"/> by the key <paramref name="name"/> (and without a key
    /// while it is the only one of this job type), its options (named <paramref name="name"/>, validated when the host
    /// starts) and a hosted service that starts it with the host and drains it when the host stops. The container owns it
    /// and disposes it.
    /// </summary>
    /// <typeparam name="TJob">The job type.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The batcher's name: its service key, options name, metric tag and trace name.</param>
    /// <param name="configure">Sets options in code; it runs after the defaults and before configuration binding.</param>
    /// <returns>A builder to choose the handler and bind configuration.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> or <paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, or a batcher of this type already has it.</exception>
    public static BatcherBuilder<TJob> AddBatcher<TJob>(
        this IServiceCollection services,
        string name,
        Action<BatcherOptions<TJob>>? configure = null)
    {
        BatcherRegistration<Batch<TJob>> registration =
            BatcherRegistrar.Register<TJob, Batch<TJob>, BatcherOptions<TJob>, Batcher<TJob>, IBatcher<TJob>>(
                services,
                name,
                configure,
                BatcherConfigurationReader.Bind,
                BatcherFactory.Create,
                BatcherLifecycle.Of);
        return new BatcherBuilder<TJob>(services, registration);
    }
}
