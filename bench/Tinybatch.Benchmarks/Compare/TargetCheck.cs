namespace Tinybatch.Benchmarks.Compare;

/// <summary>One performance target of the "Speed" issue, checked against a run.</summary>
internal sealed record TargetCheck(string Target, string Measured, bool Met);
