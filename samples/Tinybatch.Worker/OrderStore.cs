namespace Tinybatch.Worker;

/// <summary>Stands in for a database: one round trip stores a whole batch.</summary>
public sealed class OrderStore
{
    private long _roundTrips;
    private long _stored;

    /// <summary>Gets the number of round trips made.</summary>
    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    /// <summary>Gets the number of orders stored.</summary>
    public long Stored => Interlocked.Read(ref _stored);

    /// <summary>Stores the orders in one round trip.</summary>
    /// <param name="orders">The orders.</param>
    /// <param name="cancellationToken">Cancels the round trip.</param>
    /// <returns>A task that completes when the orders are stored.</returns>
    public async Task InsertAsync(IReadOnlyList<Order> orders, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken); // the round trip
        Interlocked.Increment(ref _roundTrips);
        Interlocked.Add(ref _stored, orders.Count);
    }
}
