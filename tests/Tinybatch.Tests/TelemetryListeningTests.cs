using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>
/// Telemetry costs nothing while nobody listens: no clock read, no measurement. Only the instruments that need a time
/// (the duration and wait-time histograms) read the batcher's clock, and only while someone listens to them.
/// </summary>
[Collection(NonParallel.Name)]
public sealed class TelemetryListeningTests : IDisposable
{
    private readonly TestMeterFactory _meters = new();
    private readonly CountingTimeProvider _time = new();

    public void Dispose() => _meters.Dispose();

    [Fact]
    public async Task Batcher_NobodyListens_NeverReadsTheClock()
    {
        await using var batcher = NewBatcher("unheard");

        await RunEveryOutcomeAsync(batcher);

        Assert.Equal(0, _time.TimestampReads);
    }

    [Fact]
    public async Task Batcher_ListenersOnlyOnInstrumentsWithoutTime_StillNeverReadsTheClock()
    {
        using var outcomes = new MetricCollector<long>(_meters, TinybatchTelemetry.MeterName, "tinybatch.job.outcomes");
        using var sizes = new MetricCollector<int>(_meters, TinybatchTelemetry.MeterName, "tinybatch.batch.size");
        await using var batcher = NewBatcher("counted");

        await RunEveryOutcomeAsync(batcher);

        Assert.NotEmpty(outcomes.GetMeasurementSnapshot());
        Assert.NotEmpty(sizes.GetMeasurementSnapshot());
        Assert.Equal(0, _time.TimestampReads);
    }

    [Fact]
    public async Task Batcher_DurationListened_ReadsTheClockAtDispatchAndAtCompletion()
    {
        using var durations = new MetricCollector<double>(_meters, TinybatchTelemetry.MeterName, "tinybatch.batch.duration");
        await using var batcher = NewBatcher("timed");

        await RunEveryOutcomeAsync(batcher);

        Assert.Equal(2, durations.GetMeasurementSnapshot().Count);
        Assert.Equal(4, _time.TimestampReads);
    }

    /// <summary>Two batches of two (one succeeds, one fails per job), a cancelled queued job and a refused add.</summary>
    private static async Task RunEveryOutcomeAsync(Batcher<int, int> batcher)
    {
        using var cancel = new CancellationTokenSource();
        Task<int> canceled = batcher.AddAndWaitAsync(-1, cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled.Guarded());
        for (int i = 0; i < 4; i++)
        {
            Assert.True(batcher.TryAdd(i));
        }

        batcher.Start();
        await batcher.FlushAsync().Guarded();
        await batcher.StopAsync().Guarded();
        Assert.False(batcher.TryAdd(99));
    }

    private Batcher<int, int> NewBatcher(string name) => new(
        (batch, ct) =>
        {
            for (int i = 0; i < batch.Count; i++)
            {
                if (batch[i] < 2)
                {
                    batch.SetResult(i, batch[i]);
                }
                else
                {
                    batch.Fail(i, new FormatException("failed on purpose"));
                }
            }

            return default;
        },
        new BatcherOptions<int, int>
        {
            Name = name,
            MaxBatchSize = 2,
            MaxBatchDelay = Timeout.InfiniteTimeSpan,
            TimeProvider = _time,
            MeterFactory = _meters,
        });
}
