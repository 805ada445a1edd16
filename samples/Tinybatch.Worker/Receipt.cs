namespace Tinybatch.Worker;

/// <summary>What storing an order returns.</summary>
/// <param name="OrderId">The order's id.</param>
/// <param name="Sequence">The position the store gave the order.</param>
public sealed record Receipt(long OrderId, long Sequence);
