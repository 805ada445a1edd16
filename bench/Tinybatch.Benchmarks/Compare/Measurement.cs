using Tinybatch.Benchmarks.Implementations;

namespace Tinybatch.Benchmarks.Compare;

/// <summary>The median figures of one (scenario, implementation) pair over the rounds; each figure is its own median.</summary>
internal sealed record Measurement(
    string Scenario,
    string ScenarioTitle,
    ImplementationKind Kind,
    double ItemsPerSecond,
    double AllocatedBytesPerItem,
    double P50Us,
    double P99Us,
    double P999Us,
    double MeanBatchSize,
    long FullWaits,
    double CpuNsPerItem,
    int Rounds,
    string? FailureMessage = null)
{
    /// <summary>A pair whose runs failed: it shows as FAILED in the tables and is left out of every ratio.</summary>
    public static Measurement Failure(string scenario, string title, ImplementationKind kind, string message) =>
        new(scenario, title, kind, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0, double.NaN, 0, message);

    public string Implementation => ImplementationFactory.DisplayName(Kind);

    public bool IsTinybatch => ImplementationFactory.IsTinybatch(Kind);

    public bool IsAnchor => ImplementationFactory.IsAnchor(Kind);
}
