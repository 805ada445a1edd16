namespace Tinybatch.Worker;

/// <summary>The batch handler, resolved from a new scope for each batch (it could take a scoped DbContext).</summary>
public sealed class OrderBatchHandler(OrderStore store) : IBatchHandler<Order, Receipt>
{
    /// <inheritdoc />
    public async ValueTask HandleAsync(Batch<Order, Receipt> batch, CancellationToken cancellationToken)
    {
        Receipt[] receipts = await store.InsertAsync(batch, cancellationToken);
        batch.SetResults(receipts);
    }
}
