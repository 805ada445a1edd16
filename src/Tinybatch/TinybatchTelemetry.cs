namespace Tinybatch;

/// <summary>The names under which Tinybatch publishes its metrics and traces, for OpenTelemetry's AddMeter and AddSource.</summary>
public static class TinybatchTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> of every batcher: <c>Tinybatch</c>.</summary>
    public const string MeterName = "Tinybatch";

    /// <summary>The name of the <see cref="System.Diagnostics.ActivitySource"/> of batch spans: <c>Tinybatch</c>.</summary>
    public const string ActivitySourceName = "Tinybatch";
}
