namespace Tinybatch.EventStream;

/// <summary>
/// A store for events: one table, written one batch per transaction, then counted back. Each sink owns its table and
/// recreates it empty in <see cref="InitializeAsync"/>.
/// </summary>
internal interface IEventSink : IAsyncDisposable
{
    /// <summary>Gets a one-line description: the store, where it is, and what "durable" means there.</summary>
    string Description { get; }

    /// <summary>Gets how a batch is written, for the demo's header.</summary>
    string BatchMethod { get; }

    /// <summary>Gets how many batches the store can take at once (SQLite has a single writer).</summary>
    int MaxConcurrentWriters { get; }

    /// <summary>Creates the table, empty (dropping an older one).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the table is ready.</returns>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Writes the events in one transaction; when the task completes, the transaction has committed.</summary>
    /// <param name="events">The batch.</param>
    /// <param name="cancellationToken">Cancels the write; the transaction then rolls back.</param>
    /// <returns>A task that completes after the commit.</returns>
    ValueTask WriteBatchAsync(IReadOnlyList<StreamEvent> events, CancellationToken cancellationToken);

    /// <summary>Writes one event with one INSERT in its own transaction: the per-row baseline, no batching.</summary>
    /// <param name="evt">The event.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes after the commit.</returns>
    ValueTask WriteOneAsync(StreamEvent evt, CancellationToken cancellationToken);

    /// <summary>Counts the rows in the table.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The row count.</returns>
    Task<long> CountAsync(CancellationToken cancellationToken);

    /// <summary>Reads every id in the table, in ascending order (to name missing events).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The ids.</returns>
    IAsyncEnumerable<long> ReadIdsAsync(CancellationToken cancellationToken);
}
