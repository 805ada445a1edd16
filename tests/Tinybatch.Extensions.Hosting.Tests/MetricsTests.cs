using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.Extensions.Hosting.Tests;

/// <summary>
/// The core's <c>Tinybatch</c> meter, observed through a fresh <see cref="IMeterFactory"/> per test so that no test
/// sees another's measurements. Every measurement carries the batcher's name in <c>tinybatch.batcher.name</c>; jobs'
/// outcomes are one counter, <c>tinybatch.job.outcomes</c>, told apart by <c>tinybatch.job.outcome</c>.
/// </summary>
public sealed class MetricsTests : IDisposable
{
    private const string Tag = "tinybatch.batcher.name";
    private const string OutcomeTag = "tinybatch.job.outcome";
    private const string ErrorTypeTag = "error.type";
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new();

    private IMeterFactory Factory => _services.GetRequiredService<IMeterFactory>();

    public void Dispose() => _services.Dispose();

    private BatcherOptions<int, int> Options(string name, Action<BatcherOptions<int, int>>? configure = null)
    {
        var options = new BatcherOptions<int, int> { Name = name, MeterFactory = Factory, TimeProvider = _time };
        configure?.Invoke(options);
        return options;
    }

    private static long Last(MetricCollector<long> collector, string batcher)
    {
        collector.RecordObservableInstruments();
        CollectedMeasurement<long> m = collector.GetMeasurementSnapshot().Last(m => Equals(m.Tags[Tag], batcher));
        return m.Value;
    }

    /// <summary>The total of one outcome of one batcher on <c>tinybatch.job.outcomes</c>.</summary>
    private static long Sum(MetricCollector<long> outcomes, string batcher, string outcome) =>
        outcomes.GetMeasurementSnapshot()
            .Where(m => Equals(m.Tags[Tag], batcher) && Equals(m.Tags[OutcomeTag], outcome))
            .Sum(m => m.Value);

    private MetricCollector<long> Collect(string instrument) => new(Factory, TinybatchTelemetry.MeterName, instrument);

    [Fact]
    public async Task Instruments_Published_EachHasExpectedKindUnitAndDescription()
    {
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, Options("inventory"));
        var found = new Dictionary<string, Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Scope == Factory && instrument.Meter.Name == TinybatchTelemetry.MeterName)
                {
                    found[instrument.Name] = instrument;
                }
            },
        };
        listener.Start();

        var expected = new Dictionary<string, (Type Kind, string Unit)>
        {
            ["tinybatch.job.outcomes"] = (typeof(Counter<long>), "{job}"),
            ["tinybatch.job.accepted"] = (typeof(ObservableCounter<long>), "{job}"),
            ["tinybatch.job.queued"] = (typeof(ObservableUpDownCounter<long>), "{job}"),
            ["tinybatch.job.in_flight"] = (typeof(ObservableUpDownCounter<long>), "{job}"),
            ["tinybatch.callback.failures"] = (typeof(ObservableCounter<long>), "{failure}"),
            ["tinybatch.batch.size"] = (typeof(Histogram<int>), "{job}"),
            ["tinybatch.batch.duration"] = (typeof(Histogram<double>), "s"),
            ["tinybatch.job.wait_time"] = (typeof(Histogram<double>), "s"),
        };
        Assert.Equal(expected.Keys.Order(), found.Keys.Order());
        Assert.All(expected, e =>
        {
            Instrument instrument = found[e.Key];
            Assert.IsType(e.Value.Kind, instrument);
            Assert.Equal(e.Value.Unit, instrument.Unit);
            Assert.False(string.IsNullOrWhiteSpace(instrument.Description), e.Key + " has no description");
        });
    }

    [Fact]
    public async Task JobCounters_MixedOutcomes_ReportAcceptedAndEachOutcome()
    {
        using MetricCollector<long> accepted = Collect("tinybatch.job.accepted");
        using MetricCollector<long> outcomes = Collect("tinybatch.job.outcomes");
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    if (batch[i] % 2 == 0)
                    {
                        batch.SetResult(i, batch[i]);
                    }
                    else
                    {
                        batch.Fail(i, new FormatException("odd"));
                    }
                }

                return ValueTask.CompletedTask;
            },
            Options("mixed", o =>
            {
                o.MaxBatchSize = 4;
                o.Capacity = 4;
                o.MaxBatchDelay = Timeout.InfiniteTimeSpan;
                o.OverflowPolicy = OverflowPolicy.Reject;
            }));

        // Before Start the buffer fills: 4 accepted, then 2 refused.
        bool[] added = [.. Enumerable.Range(0, 6).Select(batcher.TryAdd)];
        Assert.Equal([true, true, true, true, false, false], added);
        Assert.Equal(4, Last(accepted, "mixed"));
        Assert.Equal(2, Sum(outcomes, "mixed", "rejected"));
        Assert.Equal(0, Sum(outcomes, "mixed", "succeeded"));

        batcher.Start();
        await batcher.FlushAsync().WaitAsync(Guard);

        Assert.Equal(2, Sum(outcomes, "mixed", "succeeded"));
        Assert.Equal(2, Sum(outcomes, "mixed", "failed"));
        Assert.All(
            outcomes.GetMeasurementSnapshot().Where(m => Equals(m.Tags[OutcomeTag], "failed")),
            m => Assert.Equal(typeof(FormatException).FullName, m.Tags[ErrorTypeTag]));
        Assert.Equal(4, Last(accepted, "mixed"));
        BatcherCounters counters = batcher.Counters;
        Assert.Equal((2L, 2L, 2L), (counters.Succeeded, counters.Failed, counters.Rejected));
    }

    [Fact]
    public async Task DroppedCounter_DropOldestEvicts_CountsEachEvictedJob()
    {
        using MetricCollector<long> outcomes = Collect("tinybatch.job.outcomes");
        using MetricCollector<long> accepted = Collect("tinybatch.job.accepted");
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, Options("evicting", o =>
        {
            o.MaxBatchSize = 2;
            o.Capacity = 2;
            o.OverflowPolicy = OverflowPolicy.DropOldest;
        }));

        for (int i = 0; i < 5; i++)
        {
            Assert.True(batcher.TryAdd(i));
        }

        Assert.Equal(3, Sum(outcomes, "evicting", "dropped"));
        Assert.Equal(batcher.Counters.Dropped, Sum(outcomes, "evicting", "dropped"));
        Assert.Equal(batcher.Counters.Accepted, Last(accepted, "evicting"));
    }

    [Fact]
    public async Task QueuedJobs_JobsBufferedThenDrained_FollowsThePendingCount()
    {
        using MetricCollector<long> depth = Collect("tinybatch.job.queued");
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, Options("depth", o => o.MaxBatchDelay = Timeout.InfiniteTimeSpan));

        for (int i = 0; i < 7; i++)
        {
            batcher.TryAdd(i);
        }

        Assert.Equal(7, Last(depth, "depth"));
        batcher.Start();
        await batcher.FlushAsync().WaitAsync(Guard);
        await batcher.WhenIdleAsync().WaitAsync(Guard);
        Assert.Equal(0, Last(depth, "depth"));
    }

    [Fact]
    public async Task QueuedJobs_TwoBatchers_EachMeasurementTaggedWithItsBatcher()
    {
        using MetricCollector<long> depth = Collect("tinybatch.job.queued");
        await using var a = new Batcher<int, int>((jobs, ct) => jobs, Options("alpha"));
        await using var b = new Batcher<int, int>((jobs, ct) => jobs, Options("beta"));
        a.TryAdd(1);
        b.TryAdd(1);
        b.TryAdd(2);

        depth.RecordObservableInstruments();
        IReadOnlyList<CollectedMeasurement<long>> all = depth.GetMeasurementSnapshot();

        Assert.Equal(2, all.Count);
        Assert.Equal(1, all.Single(m => Equals(m.Tags[Tag], "alpha")).Value);
        Assert.Equal(2, all.Single(m => Equals(m.Tags[Tag], "beta")).Value);
    }

    [Fact]
    public async Task BatchSize_TenJobsInBatchesOfFour_RecordsFourFourTwo()
    {
        using var sizes = new MetricCollector<int>(Factory, TinybatchTelemetry.MeterName, "tinybatch.batch.size");
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, Options("sizes", o =>
        {
            o.MaxBatchSize = 4;
            o.MaxBatchDelay = Timeout.InfiniteTimeSpan;
        }));
        for (int i = 0; i < 10; i++)
        {
            batcher.TryAdd(i);
        }

        batcher.Start();
        await batcher.FlushAsync().WaitAsync(Guard);

        Assert.Equal([4, 4, 2], sizes.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.All(sizes.GetMeasurementSnapshot(), m => Assert.Equal("sizes", m.Tags[Tag]));
    }

    [Fact]
    public async Task BatchDuration_HandlerTakesFiveFakeSeconds_RecordsFiveSeconds()
    {
        using var durations = new MetricCollector<double>(Factory, TinybatchTelemetry.MeterName, "tinybatch.batch.duration");
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                entered.TrySetResult();
                await release.Task;
                return jobs;
            },
            Options("slow", o => o.MaxBatchDelay = TimeSpan.Zero));
        batcher.Start();

        Task<int> result = batcher.AddAndWaitAsync(1).AsTask();
        await entered.Task.WaitAsync(Guard);
        _time.Advance(TimeSpan.FromSeconds(5));
        release.SetResult();
        await result.WaitAsync(Guard);
        await batcher.WhenIdleAsync().WaitAsync(Guard);

        CollectedMeasurement<double> duration = Assert.Single(durations.GetMeasurementSnapshot());
        Assert.Equal(5.0, duration.Value, precision: 6);
        Assert.Equal("slow", duration.Tags[Tag]);
    }

    [Fact]
    public async Task JobWaitTime_JobsAddedOneSecondApart_RecordsAddToDispatchPerJob()
    {
        using var waits = new MetricCollector<double>(Factory, TinybatchTelemetry.MeterName, "tinybatch.job.wait_time");
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, Options("waits", o => o.MaxBatchDelay = TimeSpan.FromSeconds(2)));
        batcher.Start();

        Task<int> first = batcher.AddAndWaitAsync(1).AsTask();
        await batcher.WhenIdleAsync().WaitAsync(Guard);
        _time.Advance(TimeSpan.FromSeconds(1));
        Task<int> second = batcher.AddAndWaitAsync(2).AsTask();
        await batcher.WhenIdleAsync().WaitAsync(Guard);
        _time.Advance(TimeSpan.FromSeconds(1)); // the first job's delay expires: both go in one batch
        await Task.WhenAll(first, second).WaitAsync(Guard);

        Assert.Equal([2.0, 1.0], waits.GetMeasurementSnapshot().Select(m => Math.Round(m.Value, 6)));
        Assert.All(waits.GetMeasurementSnapshot(), m => Assert.Equal("waits", m.Tags[Tag]));
    }

    [Fact]
    public async Task InFlightJobs_HandlerRunning_ReportsItsJobsThenZero()
    {
        using MetricCollector<long> inFlight = Collect("tinybatch.job.in_flight");
        using MetricCollector<long> queued = Collect("tinybatch.job.queued");
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                entered.TrySetResult();
                await release.Task;
                return jobs;
            },
            Options("busy", o => o.MaxBatchSize = 3));
        batcher.Start();
        Task<int>[] results = [.. Enumerable.Range(0, 3).Select(i => batcher.AddAndWaitAsync(i).AsTask())];

        // The handler is released whatever happens: a failed assertion must fail this test, not leave the batcher's
        // disposal waiting for a handler call that never ends.
        try
        {
            await entered.Task.WaitAsync(Guard);
            Assert.Equal(3, Last(inFlight, "busy"));
            Assert.Equal(0, Last(queued, "busy"));
        }
        finally
        {
            release.TrySetResult();
        }

        int[] values = await Task.WhenAll(results).WaitAsync(Guard);
        Assert.Equal([0, 1, 2], values);
        await batcher.WhenIdleAsync().WaitAsync(Guard);
        Assert.Equal(0, Last(inFlight, "busy"));
    }

    [Fact]
    public async Task CallbackFailures_CompletionCallbackThrows_CountsEachFailure()
    {
        using MetricCollector<long> failures = Collect("tinybatch.callback.failures");
        await using var batcher = new Batcher<int, int>((jobs, ct) => jobs, Options("callbacks", o =>
        {
            o.MaxBatchSize = 2;
            o.MaxBatchDelay = Timeout.InfiniteTimeSpan;
            o.OnBatchCompleted = _ => throw new InvalidOperationException("callback failed on purpose");
        }));
        for (int i = 0; i < 4; i++)
        {
            Assert.True(batcher.TryAdd(i));
        }

        batcher.Start();
        await batcher.FlushAsync().WaitAsync(Guard);
        await batcher.StopAsync().WaitAsync(Guard);

        Assert.Equal(2, Last(failures, "callbacks"));
        Assert.Equal(batcher.Counters.CallbackFailures, Last(failures, "callbacks"));
    }

    [Fact]
    public async Task AcceptedJobs_AfterStop_StillReportFinalValues()
    {
        // A host stops its batchers before the exporters' final collection (OpenTelemetry collects once more when its
        // MeterProvider is disposed): the last counts must still be observable then, or the final export loses them.
        using MetricCollector<long> accepted = Collect("tinybatch.job.accepted");
        using MetricCollector<long> outcomes = Collect("tinybatch.job.outcomes");
        var batcher = new Batcher<int, int>((jobs, ct) => jobs, Options("final"));
        batcher.TryAdd(1);
        batcher.TryAdd(2);
        await batcher.StopAsync().WaitAsync(Guard);

        accepted.RecordObservableInstruments();

        Assert.Contains(accepted.GetMeasurementSnapshot(), m => Equals(m.Tags[Tag], "final") && m.Value == 2);
        Assert.Equal(2, Sum(outcomes, "final", "succeeded"));
        GC.KeepAlive(batcher);
    }
}
