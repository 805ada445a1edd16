using System.Diagnostics.Metrics;

namespace Tinybatch;

/// <summary>
/// The settings of a batcher that can be bound from configuration. They are validated and copied when the batcher
/// is built: changing this object afterwards has no effect on a batcher already built from it.
/// </summary>
public class BatcherOptions
{
    /// <summary>The default of <see cref="MaxBatchSize"/>: 100 jobs.</summary>
    public const int DefaultMaxBatchSize = 100;

    /// <summary>The default of <see cref="Capacity"/>: 10,000 jobs.</summary>
    public const int DefaultCapacity = 10_000;

    /// <summary>The default of <see cref="MaxBatchDelay"/>: one second.</summary>
    public static readonly TimeSpan DefaultMaxBatchDelay = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the most jobs one batch holds.</summary>
    /// <value>At least 1. The default is <see cref="DefaultMaxBatchSize"/> (100).</value>
    public int MaxBatchSize { get; set; } = DefaultMaxBatchSize;

    /// <summary>
    /// Gets or sets how long the first job of a pending batch waits before the batch is dispatched.
    /// It applies to every batch, not only the first one after <see cref="Batcher{TJob, TResult}.Start"/>.
    /// </summary>
    /// <value>
    /// The default is <see cref="DefaultMaxBatchDelay"/> (1 s). <see cref="TimeSpan.Zero"/> means no lingering: whatever
    /// is pending is dispatched as soon as a handler slot is free. <see cref="Timeout.InfiniteTimeSpan"/> means
    /// size-only batching: only a full batch, a flush or a stop dispatches. Other negative values are invalid.
    /// The delay is driven by <see cref="TimeProvider"/>; with the system clock, timers have the operating system's
    /// granularity (a few milliseconds on some machines), so a delay of 1 ms may take longer. Prefer
    /// <see cref="BatchingMode.Adaptive"/> when low latency matters.
    /// </value>
    public TimeSpan MaxBatchDelay { get; set; } = DefaultMaxBatchDelay;

    /// <summary>Gets or sets how partial batches are released.</summary>
    /// <value>The default is <see cref="BatchingMode.Fixed"/>.</value>
    public BatchingMode Mode { get; set; } = BatchingMode.Fixed;

    /// <summary>
    /// Gets or sets the capacity of the bounded buffer between producers and the handler: every accepted job not yet
    /// dispatched counts, the batch being built included.
    /// </summary>
    /// <value>At least <see cref="MaxBatchSize"/>. The default is <see cref="DefaultCapacity"/> (10,000).</value>
    public int Capacity { get; set; } = DefaultCapacity;

    /// <summary>Gets or sets what an add does when the buffer is full.</summary>
    /// <value>The default is <see cref="OverflowPolicy.Wait"/>.</value>
    public OverflowPolicy OverflowPolicy { get; set; } = OverflowPolicy.Wait;

    /// <summary>Gets or sets how many handler calls may run at once. Batches are dispatched in FIFO order.</summary>
    /// <value>At least 1. The default is 1.</value>
    public int MaxConcurrentBatches { get; set; } = 1;

    /// <summary>
    /// Gets or sets the most total weight one batch holds, the weight of each job coming from
    /// <see cref="BatcherOptions{TJob, TResult}.Weigher"/>. It is a hard cap: no dispatched batch exceeds it, and a
    /// job heavier than the cap is refused with <see cref="JobTooHeavyException"/>.
    /// </summary>
    /// <value>At least 1. The default is <see cref="long.MaxValue"/> (no weight limit).</value>
    public long MaxBatchWeight { get; set; } = long.MaxValue;

    /// <summary>
    /// Gets or sets the most total weight the buffer holds (for example, bytes), the weight of each job coming from the
    /// weigher: a budget beside the count <see cref="Capacity"/>. Every accepted job counts until its final outcome,
    /// as for <see cref="Capacity"/>; both hold at once, and an add that would exceed either meets the
    /// <see cref="OverflowPolicy"/>.
    /// </summary>
    /// <value>At least 1. The default is <see cref="long.MaxValue"/> (no weight budget).</value>
    public long MaxBufferedWeight { get; set; } = long.MaxValue;

    /// <summary>
    /// Gets or sets the most one job may weigh. A heavier job is refused with <see cref="JobTooHeavyException"/>, which
    /// names its weight and this cap. A job heavier than <see cref="MaxBatchWeight"/> or
    /// <see cref="MaxBufferedWeight"/> is refused the same way whatever this value, since nothing could hold it.
    /// </summary>
    /// <value>At least 1, or <see langword="null"/> (the default) for no cap beyond the batch and buffer weights.</value>
    public long? MaxJobWeight { get; set; }

    /// <summary>
    /// Gets or sets the backoff that pauses dispatch while the sink itself is down (see <see cref="Tinybatch.OutageBackoff"/>).
    /// </summary>
    /// <value>The default is <see langword="null"/>: no pause; each job retries on its own policy.</value>
    public OutageBackoff? OutageBackoff { get; set; }

    /// <summary>
    /// Gets or sets how long one handler call may run. When it expires, the jobs of that batch fail with
    /// <see cref="TimeoutException"/>, the handler's token is cancelled, and the slot is given back.
    /// </summary>
    /// <value>Positive, or <see cref="Timeout.InfiniteTimeSpan"/> (the default) for no limit.</value>
    public TimeSpan HandlerTimeout { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>Gets or sets the name of the batcher, used in exception messages, metric tags and traces.</summary>
    /// <value>The default is <c>"batcher"</c>.</value>
    public string Name { get; set; } = "batcher";

    /// <summary>Gets or sets the clock that drives every timer of the batcher.</summary>
    /// <value>The default is <see cref="System.TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Gets or sets the factory of the <c>Tinybatch</c> meter. When <see langword="null"/> (the default), a meter
    /// shared by the process is used.
    /// </summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>Copies every setting of this object into <paramref name="target"/>.</summary>
    /// <param name="target">The options to overwrite.</param>
    public void CopyTo(BatcherOptions target)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.MaxBatchSize = MaxBatchSize;
        target.MaxBatchDelay = MaxBatchDelay;
        target.Mode = Mode;
        target.Capacity = Capacity;
        target.OverflowPolicy = OverflowPolicy;
        target.MaxConcurrentBatches = MaxConcurrentBatches;
        target.MaxBatchWeight = MaxBatchWeight;
        target.MaxBufferedWeight = MaxBufferedWeight;
        target.MaxJobWeight = MaxJobWeight;
        target.OutageBackoff = OutageBackoff;
        target.HandlerTimeout = HandlerTimeout;
        target.Name = Name;
        target.TimeProvider = TimeProvider;
        target.MeterFactory = MeterFactory;
    }

    /// <summary>Checks every setting and returns one message per invalid setting, each naming the setting.</summary>
    /// <returns>The problems found; empty when the options are valid.</returns>
    public virtual IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxBatchSize < 1)
        {
            errors.Add($"{nameof(MaxBatchSize)} must be at least 1, but was {MaxBatchSize}.");
        }

        if (MaxBatchDelay < TimeSpan.Zero && MaxBatchDelay != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"{nameof(MaxBatchDelay)} must be zero, positive or Timeout.InfiniteTimeSpan, but was {MaxBatchDelay}.");
        }

        if (Capacity < Math.Max(1, MaxBatchSize))
        {
            errors.Add($"{nameof(Capacity)} must be at least {nameof(MaxBatchSize)} ({MaxBatchSize}), but was {Capacity}.");
        }

        if (MaxConcurrentBatches < 1)
        {
            errors.Add($"{nameof(MaxConcurrentBatches)} must be at least 1, but was {MaxConcurrentBatches}.");
        }

        if (MaxBatchWeight < 1)
        {
            errors.Add($"{nameof(MaxBatchWeight)} must be at least 1, but was {MaxBatchWeight}.");
        }

        if (MaxBufferedWeight < 1)
        {
            errors.Add($"{nameof(MaxBufferedWeight)} must be at least 1, but was {MaxBufferedWeight}.");
        }

        if (MaxJobWeight is < 1)
        {
            errors.Add($"{nameof(MaxJobWeight)} must be at least 1 or null, but was {MaxJobWeight}.");
        }

        if (HandlerTimeout <= TimeSpan.Zero && HandlerTimeout != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"{nameof(HandlerTimeout)} must be positive or Timeout.InfiniteTimeSpan, but was {HandlerTimeout}.");
        }

        if (!Enum.IsDefined(Mode))
        {
            errors.Add($"{nameof(Mode)} has an unknown value {(int)Mode}.");
        }

        if (!Enum.IsDefined(OverflowPolicy))
        {
            errors.Add($"{nameof(OverflowPolicy)} has an unknown value {(int)OverflowPolicy}.");
        }

        if (string.IsNullOrWhiteSpace(Name))
        {
            errors.Add($"{nameof(Name)} must not be empty.");
        }

        if (TimeProvider is null)
        {
            errors.Add($"{nameof(TimeProvider)} must not be null.");
        }

        return errors;
    }
}
