using System.Diagnostics;
using System.Threading.Channels;
using Tinybatch.Internal;

namespace Tinybatch;

/// <summary>
/// A batcher for fire-and-forget jobs that have no result, such as events into a sink: jobs are grouped into batches
/// when a batch is full (<see cref="BatcherOptions.MaxBatchSize"/> or <see cref="BatcherOptions.MaxBatchWeight"/>) or
/// when its first job has waited <see cref="BatcherOptions.MaxBatchDelay"/>. Every accepted job ends in exactly one
/// outcome: success when the handler returns, failure when it throws, or the per-job outcome it reported with
/// <see cref="Batch{TJob}.Fail"/> or <see cref="Batch{TJob}.Retry"/>.
/// </summary>
/// <typeparam name="TJob">The job type.</typeparam>
/// <remarks>It runs on the same engine as <see cref="Batcher{TJob, TResult}"/>, with every option, policy and counter.</remarks>
[DebuggerDisplay("{Name}: {State}, pending = {PendingCount}, in flight = {InFlightBatches}")]
public sealed class Batcher<TJob> : IBatcher<TJob>, IAsyncDisposable, IDisposable
{
    private readonly Batcher<TJob, NoResult> _engine;

    /// <summary>Creates a batcher.</summary>
    /// <param name="handleBatch">
    /// The batch handler. Returning normally completes every job it did not fail or retry; throwing fails them with the
    /// exception. The batch is valid only during the call.
    /// </param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <param name="lifetime">When cancelled, the batcher stops accepting jobs and drains, as <see cref="StopAsync"/> does.</param>
    /// <exception cref="ArgumentNullException"><paramref name="handleBatch"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public Batcher(Func<Batch<TJob>, CancellationToken, ValueTask> handleBatch, BatcherOptions<TJob>? options = null, CancellationToken lifetime = default)
    {
        ArgumentNullException.ThrowIfNull(handleBatch);
        _engine = new Batcher<TJob, NoResult>(handleBatch, (options ?? new BatcherOptions<TJob>()).ToEngineOptions(), lifetime);
    }

    /// <summary>Creates a batcher with a handler type, for dependency injection.</summary>
    /// <param name="handler">The handler.</param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <param name="lifetime">When cancelled, the batcher stops accepting jobs and drains, as <see cref="StopAsync"/> does.</param>
    /// <exception cref="ArgumentNullException"><paramref name="handler"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public Batcher(IBatchHandler<TJob> handler, BatcherOptions<TJob>? options = null, CancellationToken lifetime = default)
        : this((handler ?? throw new ArgumentNullException(nameof(handler))).HandleAsync, options, lifetime)
    {
    }

    /// <inheritdoc/>
    public string Name => _engine.Name;

    /// <inheritdoc/>
    public BatcherState State => _engine.State;

    /// <inheritdoc/>
    public long PendingCount => _engine.PendingCount;

    /// <summary>Gets the number of batches whose handler is running.</summary>
    public int InFlightBatches => _engine.InFlightBatches;

    /// <summary>Gets a task that completes when the batcher has stopped and every accepted job has an outcome.</summary>
    public Task Completion => _engine.Completion;

    /// <inheritdoc/>
    public BatcherCounters Counters => _engine.Counters;

    /// <summary>The engine, for tests.</summary>
    internal Batcher<TJob, NoResult> Engine => _engine;

    /// <summary>
    /// Starts dispatching. Calling it again does nothing. Jobs added before <see cref="Start"/> are buffered (up to
    /// <see cref="BatcherOptions.Capacity"/>) and flow once it runs.
    /// </summary>
    public void Start() => _engine.Start();

    /// <inheritdoc/>
    public bool TryAdd(TJob job) => _engine.TryAdd(job);

    /// <inheritdoc/>
    public int TryAddRange(ReadOnlySpan<TJob> jobs) => _engine.TryAddRange(jobs);

    /// <inheritdoc/>
    public ValueTask AddAsync(TJob job, CancellationToken cancellationToken = default) => _engine.AddAsync(job, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<long> AddRangeAsync(IEnumerable<TJob> jobs, CancellationToken cancellationToken = default) =>
        _engine.AddRangeAsync(jobs, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<long> AddRangeAsync(IAsyncEnumerable<TJob> source, CancellationToken cancellationToken = default) =>
        _engine.AddRangeAsync(source, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<long> AddRangeAsync(ChannelReader<TJob> source, CancellationToken cancellationToken = default) =>
        _engine.AddRangeAsync(source, cancellationToken);

    /// <inheritdoc/>
    public Task FlushAsync(CancellationToken cancellationToken = default) => _engine.FlushAsync(cancellationToken);

    /// <summary>
    /// Stops accepting jobs, dispatches every accepted job, waits for the handlers and callbacks in flight, and completes.
    /// </summary>
    /// <param name="cancellationToken">
    /// The stop deadline. When it fires first, the handlers' token is cancelled and every job still pending or in flight
    /// fails with <see cref="BatcherStoppedException"/>; the call returns normally.
    /// </param>
    /// <returns>A task that completes when every accepted job has an outcome.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default) => _engine.StopAsync(cancellationToken);

    /// <summary>Stops the batcher and drains it, as <see cref="StopAsync"/> without a deadline does.</summary>
    /// <returns>A task that completes when every accepted job has an outcome.</returns>
    public ValueTask DisposeAsync() => _engine.DisposeAsync();

    /// <summary>
    /// Stops the batcher without waiting: every job still pending or in flight fails at once with
    /// <see cref="BatcherStoppedException"/>. Prefer <see cref="DisposeAsync"/>, which drains.
    /// </summary>
    public void Dispose() => _engine.Dispose();
}
