using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>
/// The core's own metrics (System.Diagnostics.Metrics, no dependency): each dispatched batch records its size, and
/// each job how long it waited from its add to its dispatch, on the batcher's clock.
/// </summary>
[Collection(NonParallel.Name)]
public class TelemetryTests
{
    [Fact]
    public async Task Dispatch_WithAListener_RecordsBatchSizesAndEachJobsWaitOnTheBatchersClock()
    {
        string name = $"telemetry-{Guid.NewGuid():N}";
        var sizes = new List<int>();
        var waits = new List<double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Tinybatch" && instrument.Name is "tinybatch.batch.size" or "tinybatch.job.wait_time")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, state) =>
        {
            if (IsOurs(tags, name))
            {
                lock (sizes)
                {
                    sizes.Add(value);
                }
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, state) =>
        {
            if (IsOurs(tags, name))
            {
                lock (waits)
                {
                    waits.Add(value);
                }
            }
        });
        listener.Start();

        var time = new FakeTimeProvider();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            recorder.Echo,
            new BatcherOptions<int, int> { Name = name, MaxBatchSize = 3, MaxBatchDelay = TimeSpan.FromMilliseconds(10), TimeProvider = time });
        batcher.Start();
        batcher.TryAdd(1);
        batcher.TryAdd(2);
        batcher.TryAdd(3);
        await recorder.WhenBatchesAsync(1);
        batcher.TryAdd(4);
        await batcher.IdleAsync();
        time.Advance(TimeSpan.FromMilliseconds(10));
        await recorder.WhenBatchesAsync(2);
        await batcher.StopAsync().Guarded();

        lock (sizes)
        {
            Assert.Equal([3, 1], sizes);
        }

        lock (waits)
        {
            Assert.Equal([0, 0, 0, 0.010], waits);
        }
    }

    [Fact]
    public async Task Counters_ObservedThroughTheMeter_MatchTheBatchersOwnAndBatchDurationIsOnItsClock()
    {
        string name = $"telemetry-{Guid.NewGuid():N}";
        var observed = new Dictionary<string, long>();
        var durations = new List<double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Tinybatch" && (instrument.Name.StartsWith("tinybatch.jobs.", StringComparison.Ordinal) || instrument.Name == "tinybatch.batch.duration"))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) =>
        {
            if (IsOurs(tags, name))
            {
                lock (observed)
                {
                    observed[instrument.Name] = value;
                }
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, state) =>
        {
            if (IsOurs(tags, name))
            {
                lock (durations)
                {
                    durations.Add(value);
                }
            }
        });
        listener.Start();

        var time = new FakeTimeProvider();
        var gate = new HandlerGate();
        await using var batcher = new Batcher<int, int>(
            async (batch, ct) =>
            {
                await gate.PassAsync();
                batch.SetResult(0, batch[0]);
                batch.Fail(1, new InvalidOperationException("failed on purpose"));
            },
            new BatcherOptions<int, int> { Name = name, MaxBatchSize = 2, MaxBatchDelay = Timeout.InfiniteTimeSpan, TimeProvider = time });
        batcher.Start();
        batcher.TryAdd(1);
        batcher.TryAdd(2);
        await gate.WhenEnteredAsync(1);
        time.Advance(TimeSpan.FromMilliseconds(250));
        gate.Open();
        await batcher.FlushAsync().Guarded();
        listener.RecordObservableInstruments();

        lock (observed)
        {
            Assert.Equal((2L, 1L, 1L), (observed["tinybatch.jobs.accepted"], observed["tinybatch.jobs.processed"], observed["tinybatch.jobs.failed"]));
        }

        lock (durations)
        {
            Assert.Equal([0.25], durations);
        }
    }

    /// <summary>
    /// Recording a finished batch runs user code (the clock, metric listeners). Should it throw, the batch must still
    /// be handed back to the loop: its outcomes stand, the failure is counted, and flush and stop still complete.
    /// </summary>
    [Fact]
    public async Task Completion_ClockThrowsWhileRecordingTheBatch_BatchStillRetiredAndFailureCounted()
    {
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Tinybatch" && instrument.Name == "tinybatch.batch.duration")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.Start();
        var time = new BreakableClock();
        var gate = new HandlerGate();
        var batcher = new Batcher<int, int>(
            async (batch, ct) =>
            {
                await gate.PassAsync();
                batch.SetResults([.. batch]);
            },
            new BatcherOptions<int, int> { MaxBatchSize = 2, MaxBatchDelay = Timeout.InfiniteTimeSpan, TimeProvider = time });
        batcher.Start();
        Task<int> first = batcher.AddAndWaitAsync(1).AsTask();
        Task<int> second = batcher.AddAndWaitAsync(2).AsTask();
        await gate.WhenEnteredAsync(1);

        time.Broken = true;
        gate.Open();

        Assert.Equal((1, 2), (await first.Guarded(), await second.Guarded()));
        await batcher.FlushAsync().Guarded();
        await batcher.StopAsync().Guarded();
        BatcherCounters c = batcher.Counters;
        Assert.Equal((2, 0, 1L), (c.Succeeded, c.InFlight, c.CallbackFailures));
    }

    private static bool IsOurs(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "tinybatch.batcher" && Equals(tag.Value, name))
            {
                return true;
            }
        }

        return false;
    }
}
