using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Tinybatch.Internal;

/// <summary>What telemetry reads from a batcher, whatever its job and result types.</summary>
internal interface IBatcherTelemetrySource
{
    string Name { get; }

    BatcherCounters Counters { get; }
}

/// <summary>
/// The <see cref="TinybatchTelemetry.MeterName"/> meter's instruments and activity source, named by the OpenTelemetry
/// conventions (docs/TELEMETRY.md). Nothing is recorded, and no clock is read for telemetry, while nobody listens:
/// counts that exist anyway are observed from the batcher's own counters; the outcome counter and the histograms are
/// recorded once per batch (once per refusal or cancellation) and only when enabled.
/// </summary>
internal sealed class BatcherTelemetry
{
    public const string BatcherNameTag = "tinybatch.batcher.name";
    public const string OutcomeTag = "tinybatch.job.outcome";
    public const string ErrorTypeTag = "error.type";

    public static readonly ActivitySource Source = new(TinybatchTelemetry.ActivitySourceName, Version);

    private static readonly ConditionalWeakTable<IMeterFactory, BatcherTelemetry> s_byFactory = new();
    private static readonly Lazy<BatcherTelemetry> s_shared = new(() => new BatcherTelemetry(new Meter(TinybatchTelemetry.MeterName, Version)));
    private static readonly string? Version = typeof(BatcherTelemetry).Assembly.GetName().Version?.ToString();

    /// <summary>
    /// Every live batcher, weakly: a batcher's final counters are still exported after it stops, while one nobody holds
    /// can be collected. Adding is O(1) and visits no other batcher (dead entries go with the garbage collector), so
    /// creating many batchers stays linear.
    /// </summary>
    private readonly ConditionalWeakTable<IBatcherTelemetrySource, object> _sources = new();
    private readonly Counter<long> _outcomes;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<double> _jobWait;

    private BatcherTelemetry(Meter meter)
    {
#if NET9_0_OR_GREATER
        // Seconds-scale buckets: exporters' defaults are made for milliseconds and would put every sample in the first.
        var seconds = new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets };
        var jobs = new InstrumentAdvice<int> { HistogramBucketBoundaries = JobBuckets };
        _batchSize = meter.CreateHistogram("tinybatch.batch.size", "{job}", "Number of jobs in each dispatched batch.", tags: null, advice: jobs);
        _batchDuration = meter.CreateHistogram("tinybatch.batch.duration", "s", "Duration of each handler call, from dispatch until its outcomes are applied.", tags: null, advice: seconds);
        _jobWait = meter.CreateHistogram("tinybatch.job.wait_time", "s", "Time a job waits from its add until its batch is dispatched.", tags: null, advice: seconds);
#else
        // Bucket advice needs .NET 9's metrics API: on .NET 8, configure the buckets with a view (docs/TELEMETRY.md).
        _batchSize = meter.CreateHistogram<int>("tinybatch.batch.size", "{job}", "Number of jobs in each dispatched batch.");
        _batchDuration = meter.CreateHistogram<double>("tinybatch.batch.duration", "s", "Duration of each handler call, from dispatch until its outcomes are applied.");
        _jobWait = meter.CreateHistogram<double>("tinybatch.job.wait_time", "s", "Time a job waits from its add until its batch is dispatched.");
#endif
        _outcomes = meter.CreateCounter<long>("tinybatch.job.outcomes", "{job}", "Jobs by outcome: succeeded, failed, canceled, rejected, dropped, or retried (one per retry scheduled).");
        meter.CreateObservableCounter("tinybatch.job.accepted", () => Observe(static c => c.Accepted), "{job}", "Jobs accepted into the buffer.");
        meter.CreateObservableUpDownCounter("tinybatch.job.queued", () => Observe(static c => c.Pending), "{job}", "Accepted jobs waiting for their batch, jobs waiting for a retry included.");
        meter.CreateObservableUpDownCounter("tinybatch.job.in_flight", () => Observe(static c => c.InFlight), "{job}", "Jobs inside handler calls.");
        meter.CreateObservableCounter("tinybatch.callback.failures", () => Observe(static c => c.CallbackFailures), "{failure}", "Exceptions thrown by user callbacks (completion, dead-letter, retry policy, clock or listener), caught and counted.");
    }

#if NET9_0_OR_GREATER
    private static double[] SecondsBuckets => [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private static int[] JobBuckets => [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
#endif

    /// <summary>
    /// Test hook: other registrations visited while registering a batcher. Always zero: registration is one insert into a
    /// <see cref="ConditionalWeakTable{TKey, TValue}"/>, which visits no other entry.
    /// </summary>
    internal static long RegistrationScans => 0;

    /// <summary>Whether someone listens to the wait-time histogram: only then do jobs need an add time for it.</summary>
    public bool WaitTimeEnabled => _jobWait.Enabled;

    public bool OutcomesEnabled => _outcomes.Enabled;

    /// <summary>Whether a dispatched batch needs its dispatch time: only the duration and wait-time histograms read it.</summary>
    public bool DispatchTimeEnabled => _batchDuration.Enabled || _jobWait.Enabled;

    public static BatcherTelemetry For(IMeterFactory? factory) =>
        factory is null
            ? s_shared.Value
            : s_byFactory.GetValue(factory, static f => new BatcherTelemetry(f.Create(new MeterOptions(TinybatchTelemetry.MeterName) { Version = Version })));

    /// <summary>The context to link a batch to, captured at add time only while tracing listens.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static object? CaptureLink() =>
        Source.HasListeners() && Activity.Current is { } current ? current.Context : null;

    public void Register(IBatcherTelemetrySource source) => _sources.AddOrUpdate(source, source.Name);

    /// <summary>Counts jobs that reached an outcome; only called when <see cref="OutcomesEnabled"/>.</summary>
    public void RecordOutcome(string batcher, string outcome, long count, Exception? error = null)
    {
        if (count == 0)
        {
            return;
        }

        var tags = new TagList
        {
            { BatcherNameTag, batcher },
            { OutcomeTag, outcome },
        };
        if (error is not null)
        {
            tags.Add(ErrorTypeTag, error.GetType().FullName);
        }

        _outcomes.Add(count, tags);
    }

    public void RecordDispatch<TJob>(string batcher, Batch<TJob> batch, TimeProvider time)
    {
        var tag = new KeyValuePair<string, object?>(BatcherNameTag, batcher);
        if (_batchSize.Enabled)
        {
            _batchSize.Record(batch.Size, tag);
        }

        // A batch dispatched before anyone listened has no dispatch time: it records no wait.
        if (_jobWait.Enabled && batch.DispatchTimestamp != JobEntry<TJob>.NotStamped)
        {
            for (int i = 0; i < batch.Size; i++)
            {
                long added = batch.Entries[i].Stamp;
                if (added != JobEntry<TJob>.NotStamped)
                {
                    _jobWait.Record(time.GetElapsedTime(added, batch.DispatchTimestamp).TotalSeconds, tag);
                }
            }
        }
    }

    public void RecordCompletion<TJob>(string batcher, Batch<TJob> batch, TimeProvider time)
    {
        if (_batchDuration.Enabled && batch.DispatchTimestamp != JobEntry<TJob>.NotStamped)
        {
            var tags = new TagList { { BatcherNameTag, batcher } };
            if (batch.HandlerException is { } failure)
            {
                tags.Add(ErrorTypeTag, failure.GetType().FullName);
            }

            _batchDuration.Record(time.GetElapsedTime(batch.DispatchTimestamp).TotalSeconds, tags);
        }
    }

    public static Activity? StartBatchActivity<TJob>(string batcher, Batch<TJob> batch)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        // One link per distinct add-time activity: a request that added 100 jobs is linked once.
        List<ActivityLink>? links = null;
        HashSet<ActivitySpanId>? seen = null;
        for (int i = 0; i < batch.Size; i++)
        {
            if (batch.Entries[i].Link is ActivityContext context && (seen ??= []).Add(context.SpanId))
            {
                (links ??= []).Add(new ActivityLink(context));
            }
        }

        Activity? activity = Source.StartActivity(
            ActivityKind.Internal,
            parentContext: default,
            tags: null,
            links: links,
            name: "tinybatch.batch " + batcher);
        if (activity is not null)
        {
            activity.SetTag(BatcherNameTag, batcher);
            activity.SetTag("tinybatch.batch.id", batch.Id);
            activity.SetTag("tinybatch.batch.size", batch.Size);
        }

        return activity;
    }

    public static void EndBatchActivity(Activity activity, Exception? failure)
    {
        if (failure is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, failure.Message);
            activity.SetTag(ErrorTypeTag, failure.GetType().FullName);
        }

        activity.Dispose();
    }

    private List<Measurement<long>> Observe(Func<BatcherCounters, long> read)
    {
        var measurements = new List<Measurement<long>>();
        foreach (KeyValuePair<IBatcherTelemetrySource, object> entry in _sources)
        {
            measurements.Add(new Measurement<long>(read(entry.Key.Counters), new KeyValuePair<string, object?>(BatcherNameTag, entry.Key.Name)));
        }

        return measurements;
    }
}
