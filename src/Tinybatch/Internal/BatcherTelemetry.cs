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
/// The <c>Tinybatch</c> meter's instruments and the <c>Tinybatch</c> activity source. Counters are observable: they
/// read the batcher's own counters, so the hot path pays nothing for them. Histograms are recorded once per batch
/// (the per-job wait time only while someone listens).
/// </summary>
internal sealed class BatcherTelemetry
{
    public const string MeterName = "Tinybatch";
    public const string BatcherTag = "tinybatch.batcher";

    public static readonly ActivitySource Source = new(MeterName, typeof(BatcherTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly ConditionalWeakTable<IMeterFactory, BatcherTelemetry> s_byFactory = new();
    private static readonly Lazy<BatcherTelemetry> s_shared = new(() => new BatcherTelemetry(new Meter(MeterName, Version)));
    private static readonly string? Version = typeof(BatcherTelemetry).Assembly.GetName().Version?.ToString();

    /// <summary>
    /// Weak, so a batcher's final counters are still exported after it stops (an exporter's last collection at
    /// shutdown comes after the drain) while a batcher nobody holds can still be collected.
    /// </summary>
    private readonly List<WeakReference<IBatcherTelemetrySource>> _sources = [];
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<double> _jobWait;

    private BatcherTelemetry(Meter meter)
    {
#if NET9_0_OR_GREATER
        // Seconds-scale buckets: exporters' defaults are made for milliseconds and would put every sample in the first.
        var seconds = new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets };
        var jobs = new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] };
        _batchSize = meter.CreateHistogram("tinybatch.batch.size", "{job}", "Number of jobs in each dispatched batch.", tags: null, advice: jobs);
        _batchDuration = meter.CreateHistogram("tinybatch.batch.duration", "s", "Time from a batch's dispatch until its outcomes are applied.", tags: null, advice: seconds);
        _jobWait = meter.CreateHistogram("tinybatch.job.wait_time", "s", "Time a job waits from its add until its batch is dispatched.", tags: null, advice: seconds);
#else
        _batchSize = meter.CreateHistogram<int>("tinybatch.batch.size", "{job}", "Number of jobs in each dispatched batch.");
        _batchDuration = meter.CreateHistogram<double>("tinybatch.batch.duration", "s", "Time from a batch's dispatch until its outcomes are applied.");
        _jobWait = meter.CreateHistogram<double>("tinybatch.job.wait_time", "s", "Time a job waits from its add until its batch is dispatched.");
#endif
        meter.CreateObservableCounter("tinybatch.jobs.accepted", () => Observe(c => c.Accepted), "{job}", "Jobs accepted into the buffer.");
        meter.CreateObservableCounter("tinybatch.jobs.processed", () => Observe(c => c.Succeeded), "{job}", "Jobs the handler completed with a result.");
        meter.CreateObservableCounter("tinybatch.jobs.failed", () => Observe(c => c.Failed), "{job}", "Jobs that ended with an exception.");
        meter.CreateObservableCounter("tinybatch.jobs.canceled", () => Observe(c => c.Canceled), "{job}", "Jobs removed before dispatch by their caller's cancellation.");
        meter.CreateObservableCounter("tinybatch.jobs.rejected", () => Observe(c => c.Rejected), "{job}", "Adds refused: buffer full, job too heavy, or batcher stopped.");
        meter.CreateObservableCounter("tinybatch.jobs.dropped", () => Observe(c => c.Dropped), "{job}", "Accepted jobs evicted by the drop-oldest overflow policy.");
        meter.CreateObservableCounter("tinybatch.jobs.retried", () => Observe(c => c.Retried), "{job}", "Retry attempts scheduled.");
        meter.CreateObservableGauge("tinybatch.queue.depth", () => Observe(c => c.Pending), "{job}", "Accepted jobs not yet dispatched.");
        meter.CreateObservableGauge("tinybatch.jobs.in_flight", () => Observe(c => c.InFlight), "{job}", "Jobs in batches whose handler is running.");
    }

    /// <summary>Whether someone listens to the wait-time histogram: only then do jobs need an add time for it.</summary>
    public bool WaitTimeEnabled => _jobWait.Enabled;

    public static BatcherTelemetry For(IMeterFactory? factory) =>
        factory is null
            ? s_shared.Value
            : s_byFactory.GetValue(factory, static f => new BatcherTelemetry(f.Create(new MeterOptions(MeterName) { Version = Version })));

    /// <summary>The context to link a batch to, captured at add time only while tracing listens.</summary>
    public static object? CaptureLink() =>
        Source.HasListeners() && Activity.Current is { } current ? current.Context : null;

#if NET9_0_OR_GREATER
    private static readonly double[] SecondsBuckets =
        [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
#endif

    public void Register(IBatcherTelemetrySource source)
    {
        lock (_sources)
        {
            _sources.RemoveAll(static w => !w.TryGetTarget(out _));
            _sources.Add(new WeakReference<IBatcherTelemetrySource>(source));
        }
    }

    public void RecordDispatch<TJob, TResult>(IBatcherTelemetrySource source, Batch<TJob, TResult> batch, TimeProvider time)
    {
        var tag = new KeyValuePair<string, object?>(BatcherTag, source.Name);
        if (_batchSize.Enabled)
        {
            _batchSize.Record(batch.Size, tag);
        }

        if (_jobWait.Enabled)
        {
            for (int i = 0; i < batch.Size; i++)
            {
                long added = batch.Entries[i].Timestamp;
                if (added != JobEntry<TJob>.NotStamped)
                {
                    _jobWait.Record(time.GetElapsedTime(added, batch.DispatchTimestamp).TotalSeconds, tag);
                }
            }
        }
    }

    public void RecordCompletion<TJob, TResult>(IBatcherTelemetrySource source, Batch<TJob, TResult> batch, TimeProvider time)
    {
        if (_batchDuration.Enabled)
        {
            _batchDuration.Record(time.GetElapsedTime(batch.DispatchTimestamp).TotalSeconds, new KeyValuePair<string, object?>(BatcherTag, source.Name));
        }
    }

    public static Activity? StartBatchActivity<TJob, TResult>(IBatcherTelemetrySource source, Batch<TJob, TResult> batch)
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
            name: "tinybatch.batch " + source.Name);
        if (activity is not null)
        {
            activity.SetTag(BatcherTag, source.Name);
            activity.SetTag("tinybatch.batch.id", batch.Id);
            activity.SetTag("tinybatch.batch.size", batch.Size);
        }

        return activity;
    }

    private Measurement<long>[] Observe(Func<BatcherCounters, long> read)
    {
        var sources = new List<IBatcherTelemetrySource>();
        lock (_sources)
        {
            foreach (WeakReference<IBatcherTelemetrySource> weak in _sources)
            {
                if (weak.TryGetTarget(out IBatcherTelemetrySource? source))
                {
                    sources.Add(source);
                }
            }
        }

        var measurements = new Measurement<long>[sources.Count];
        for (int i = 0; i < sources.Count; i++)
        {
            measurements[i] = new Measurement<long>(read(sources[i].Counters), new KeyValuePair<string, object?>(BatcherTag, sources[i].Name));
        }

        return measurements;
    }
}
