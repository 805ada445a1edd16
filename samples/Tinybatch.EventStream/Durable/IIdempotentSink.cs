namespace Tinybatch.EventStream.Durable;

/// <summary>
/// A store that writes a batch in one transaction and ignores events whose id it already holds, so an event the
/// journal replays after a crash is stored once.
/// </summary>
internal interface IIdempotentSink : IAsyncDisposable
{
    string Description { get; }

    int MaxConcurrentWriters { get; }

    /// <summary>Creates the table if missing; drops it first when <paramref name="reset"/>.</summary>
    Task InitializeAsync(bool reset);

    /// <summary>Inserts the events, skipping ids already stored; returns when the transaction has committed.</summary>
    ValueTask WriteAsync(IReadOnlyList<DurableEvent> events, CancellationToken cancellationToken);

    /// <summary>Counts all rows, and rows whose id is in [<paramref name="fromId"/>, <paramref name="toId"/>].</summary>
    Task<long> CountAsync(long fromId = long.MinValue, long toId = long.MaxValue);

    /// <summary>Reads every stored id.</summary>
    Task<HashSet<long>> ReadIdsAsync();
}
