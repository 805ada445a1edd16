namespace Tinybatch.EventStream;

/// <summary>One batch size of a sweep and how it did.</summary>
/// <param name="BatchSize">MaxBatchSize.</param>
/// <param name="Result">The run's verified result.</param>
internal sealed record SweepPoint(int BatchSize, RunResult Result);
