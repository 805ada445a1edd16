namespace Tinybatch.Worker;

/// <summary>An order to store.</summary>
/// <param name="Id">The order's id.</param>
/// <param name="Amount">The order's amount.</param>
public sealed record Order(long Id, decimal Amount);
