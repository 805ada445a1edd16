namespace Tinybatch.Worker;

/// <summary>
/// The batch handler, resolved from a new scope for each batch (it could take a scoped DbContext). Orders have no
/// result: returning stores the whole batch, throwing fails it.
/// </summary>
public sealed class OrderBatchHandler(OrderStore store) : IBatchHandler<Order>
{
    /// <inheritdoc />
    public async ValueTask HandleAsync(Batch<Order> batch, CancellationToken cancellationToken) =>
        await store.InsertAsync(batch, cancellationToken);
}
