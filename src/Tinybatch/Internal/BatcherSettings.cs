using System.Diagnostics.Metrics;

namespace Tinybatch.Internal;

/// <summary>
/// Every setting of a batcher, validated and copied once from its options, with each default and each derived value
/// in one place. Immutable: changing the options afterwards changes nothing.
/// </summary>
internal sealed class BatcherSettings<TJob, TResult>
{
    public BatcherSettings(BatcherOptions<TJob, TResult> options)
    {
        Name = options.Name;
        MaxBatchSize = options.MaxBatchSize;
        MaxBatchWeight = options.MaxBatchWeight;
        MaxConcurrentBatches = options.MaxConcurrentBatches;
        Mode = options.Mode;
        Overflow = options.OverflowPolicy;
        Time = options.TimeProvider;
        SystemClock = ReferenceEquals(Time, TimeProvider.System);
        MeterFactory = options.MeterFactory;
        Weigher = options.Weigher;
        OnBatchCompleted = options.OnBatchCompleted;
        OnDeadLetter = options.OnDeadLetter;
        Retry = options.Retry?.Freeze();
        MaxAttempts = Retry?.MaxAttempts ?? 3;
        RetryFailedBatches = Retry?.RetryFailedBatches ?? false;
        UnsetJobsSucceed = options.UnsetJobsSucceed;
        OutageBackoff = options.OutageBackoff;
        Trigger = new BatchTrigger(options.MaxBatchSize, options.MaxBatchWeight, options.MaxBatchDelay);
        HandlerTimeout = options.HandlerTimeout;

        // Without a weigher every job weighs 1, so a weight budget is only another count: fold it into the capacity.
        Weighted = options.Weigher is not null;
        Capacity = Weighted ? options.Capacity : Math.Min(options.Capacity, options.MaxBufferedWeight);
        MaxBufferedWeight = Weighted ? options.MaxBufferedWeight : long.MaxValue;

        // One job can weigh no more than a batch or the whole buffer can hold.
        long jobCap = options.MaxJobWeight ?? long.MaxValue;
        MaxJobWeight = Math.Min(jobCap, Math.Min(options.MaxBatchWeight, options.MaxBufferedWeight));
        MaxJobWeightSource = jobCap <= MaxJobWeight ? nameof(BatcherOptions.MaxJobWeight)
            : options.MaxBatchWeight <= options.MaxBufferedWeight ? nameof(BatcherOptions.MaxBatchWeight)
            : nameof(BatcherOptions.MaxBufferedWeight);

        // Add times matter only when time can release a batch; a single slot in adaptive mode is released by the slot.
        // Under the system clock, reading it costs 35-65 ns on some virtual machines, so only jobs likely to start a
        // batch are stamped there (see Intake); other clocks (a fake one in tests) stamp every job.
        StampJobs = Trigger.Lingers && !(Mode == BatchingMode.Adaptive && MaxConcurrentBatches == 1);
        StampEveryJob = !SystemClock || Weighted;
        BatchSizeMultiplier = (ulong.MaxValue / (uint)MaxBatchSize) + 1;
    }

    public string Name { get; }

    public int MaxBatchSize { get; }

    public long MaxBatchWeight { get; }

    /// <summary>The most accepted jobs without a final outcome: queued, inside a handler call, or waiting for a retry.</summary>
    public long Capacity { get; }

    /// <summary>The most total weight of accepted jobs without a final outcome, when a weigher is set.</summary>
    public long MaxBufferedWeight { get; }

    /// <summary>The most one job may weigh, and which option set that cap (for the refusal's message).</summary>
    public long MaxJobWeight { get; }

    public string MaxJobWeightSource { get; }

    public int MaxConcurrentBatches { get; }

    public BatchingMode Mode { get; }

    public OverflowPolicy Overflow { get; }

    public BatchTrigger Trigger { get; }

    /// <summary>The handler timeout; <see cref="Timeout.InfiniteTimeSpan"/> for none.</summary>
    public TimeSpan HandlerTimeout { get; }

    public TimeProvider Time { get; }

    public bool SystemClock { get; }

    public IMeterFactory? MeterFactory { get; }

    public bool Weighted { get; }

    public Func<TJob, long>? Weigher { get; }

    public Action<Batch<TJob, TResult>>? OnBatchCompleted { get; }

    public Action<DeadLetter<TJob>>? OnDeadLetter { get; }

    public RetryPolicy? Retry { get; }

    public int MaxAttempts { get; }

    public bool RetryFailedBatches { get; }

    /// <summary>Whether a job left without an outcome succeeds (the result-less batcher) rather than fails.</summary>
    public bool UnsetJobsSucceed { get; }

    public OutageBackoff? OutageBackoff { get; }

    public bool StampJobs { get; }

    public bool StampEveryJob { get; }

    /// <summary>For a division-free <c>x % MaxBatchSize</c> (Lemire's fast modulo).</summary>
    public ulong BatchSizeMultiplier { get; }

    /// <summary>Whether a job at this distance from the oldest queued job is likely to start a batch, so needs its add time.</summary>
    public bool StartsBatch(long distance) =>
        distance <= 0 || (ulong)distance > uint.MaxValue
            ? distance <= 0
            : FastMod((uint)distance) == 0;

    private uint FastMod(uint value) => (uint)(((((BatchSizeMultiplier * value) >> 32) + 1) * (uint)MaxBatchSize) >> 32);
}
