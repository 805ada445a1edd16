namespace Tinybatch.Worker;

/// <summary>Stands in for a database: one round trip stores a whole batch.</summary>
public sealed class OrderStore
{
    private long _sequence;

    /// <summary>Gets the number of round trips made.</summary>
    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    private long _roundTrips;

    /// <summary>Stores the orders in one round trip and returns their receipts, in order.</summary>
    public async Task<Receipt[]> InsertAsync(IReadOnlyList<Order> orders, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken); // the round trip
        Interlocked.Increment(ref _roundTrips);
        var receipts = new Receipt[orders.Count];
        for (int i = 0; i < orders.Count; i++)
        {
            receipts[i] = new Receipt(orders[i].Id, Interlocked.Increment(ref _sequence));
        }

        return receipts;
    }
}
