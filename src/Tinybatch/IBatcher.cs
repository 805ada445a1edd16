using System.Threading.Channels;

namespace Tinybatch;

/// <summary>
/// What application code needs from a batcher that takes jobs of type <typeparamref name="TJob"/>: adding jobs, flushing
/// and reading its state. Depend on it (and mock it in tests); the owner of the batcher (a host, a container) starts and
/// stops it.
/// </summary>
/// <typeparam name="TJob">The job type.</typeparam>
public interface IBatcher<TJob>
{
    /// <summary>Gets the batcher's name.</summary>
    string Name { get; }

    /// <summary>Gets the batcher's lifecycle state.</summary>
    BatcherState State { get; }

    /// <summary>Gets the number of accepted jobs not yet dispatched, jobs waiting for a retry included.</summary>
    long PendingCount { get; }

    /// <summary>Gets a snapshot of the counters.</summary>
    BatcherCounters Counters { get; }

    /// <summary>Adds a fire-and-forget job without waiting.</summary>
    /// <param name="job">The job.</param>
    /// <returns><see langword="true"/> if the job was accepted; <see langword="false"/> if it was refused (full or stopped).</returns>
    bool TryAdd(TJob job);

    /// <summary>Adds fire-and-forget jobs without waiting, in order, stopping at the first one refused.</summary>
    /// <param name="jobs">The jobs.</param>
    /// <returns>How many jobs, from the start of <paramref name="jobs"/>, were accepted.</returns>
    int TryAddRange(ReadOnlySpan<TJob> jobs);

    /// <summary>Adds a fire-and-forget job; completes when it is accepted.</summary>
    /// <param name="job">The job.</param>
    /// <param name="cancellationToken">Cancels the wait for space.</param>
    /// <returns>A task that completes when the job is accepted.</returns>
    ValueTask AddAsync(TJob job, CancellationToken cancellationToken = default);

    /// <summary>Adds fire-and-forget jobs in order, waiting for space as <see cref="AddAsync"/> does.</summary>
    /// <param name="jobs">The jobs.</param>
    /// <param name="cancellationToken">Stops adding: the jobs not yet accepted are left.</param>
    /// <returns>How many jobs were accepted.</returns>
    ValueTask<long> AddRangeAsync(IEnumerable<TJob> jobs, CancellationToken cancellationToken = default);

    /// <summary>Adds every job of an asynchronous stream, in order, until it ends.</summary>
    /// <param name="source">The stream.</param>
    /// <param name="cancellationToken">Stops reading the stream.</param>
    /// <returns>How many jobs were accepted.</returns>
    ValueTask<long> AddRangeAsync(IAsyncEnumerable<TJob> source, CancellationToken cancellationToken = default);

    /// <summary>Adds every job read from a channel, in order, until it is completed.</summary>
    /// <param name="source">The channel's reader.</param>
    /// <param name="cancellationToken">Stops reading the channel.</param>
    /// <returns>How many jobs were accepted.</returns>
    ValueTask<long> AddRangeAsync(ChannelReader<TJob> source, CancellationToken cancellationToken = default);

    /// <summary>Dispatches what is pending now and completes when every job added before the call has an outcome.</summary>
    /// <param name="cancellationToken">Cancels this wait only.</param>
    /// <returns>A task that completes when the earlier jobs have their outcomes.</returns>
    Task FlushAsync(CancellationToken cancellationToken = default);
}
