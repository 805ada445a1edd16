using System.Diagnostics.Metrics;

namespace Tinybatch.Tests.TestSupport;

/// <summary>
/// A meter factory of its own per test (as the host's is per app): its meters are told apart from every other test's by
/// their scope, which <c>MetricCollector</c> filters on, so no test sees another's measurements or enables its instruments.
/// </summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        options.Scope = this;
        var meter = new Meter(options);
        lock (_meters)
        {
            _meters.Add(meter);
        }

        return meter;
    }

    public void Dispose()
    {
        lock (_meters)
        {
            _meters.ForEach(m => m.Dispose());
            _meters.Clear();
        }
    }
}
