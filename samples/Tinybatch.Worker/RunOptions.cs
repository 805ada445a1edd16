namespace Tinybatch.Worker;

/// <summary>How long the sample runs: <c>--seconds N</c>, 5 by default.</summary>
/// <param name="Duration">How long to place orders.</param>
public sealed record RunOptions(TimeSpan Duration);
