namespace Tinybatch.Partitioning;

/// <summary>
/// The settings of a <see cref="PartitionedBatcher{TKey, TJob, TResult}"/>: the settings every partition's batcher
/// starts from, and how partitions are created, spread out in time, and retired.
/// </summary>
/// <typeparam name="TKey">The partition key type.</typeparam>
/// <typeparam name="TJob">The job type.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
public sealed class PartitionedBatcherOptions<TKey, TJob, TResult>
    where TKey : notnull
{
    /// <summary>The default of <see cref="IdleTimeout"/>: one minute.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(1);

    /// <summary>The default of <see cref="MaxPartitions"/>: 1,024 live partitions.</summary>
    public const int DefaultMaxPartitions = 1024;

    /// <summary>
    /// Gets or sets the settings every partition's batcher is built from. They are copied for each partition
    /// (<see cref="BatcherOptions{TJob, TResult}.CopyTo(BatcherOptions{TJob, TResult})"/>), so each partition has its
    /// own size, weight and delay triggers and its own buffer of <see cref="BatcherOptions.Capacity"/> jobs. Its
    /// <see cref="BatcherOptions.Name"/> names the partitioned batcher; a partition is named <c>name/key</c>. Its
    /// <see cref="BatcherOptions.TimeProvider"/> also drives idle retirement.
    /// </summary>
    /// <value>The default is a new <see cref="BatcherOptions{TJob, TResult}"/> with its defaults.</value>
    public BatcherOptions<TJob, TResult> Partition { get; set; } = new();

    /// <summary>
    /// Gets or sets a function that returns the settings of the partition of a key, for keys that need their own
    /// limits. It is called once per partition creation, outside every lock; the object it returns is copied.
    /// </summary>
    /// <value>The default is <see langword="null"/>: every partition uses <see cref="Partition"/>.</value>
    public Func<TKey, BatcherOptions<TJob, TResult>>? PartitionOptions { get; set; }

    /// <summary>
    /// Gets or sets how long a partition stays without adds, and without pending or in-flight jobs, before it is
    /// retired: it stops taking jobs, drains, and is forgotten. The next job with its key creates a new partition.
    /// Partitions are checked every half <see cref="IdleTimeout"/> (at least once a day), so one retires between one and
    /// one and a half <see cref="IdleTimeout"/> after it became idle.
    /// </summary>
    /// <value>Positive, or <see cref="Timeout.InfiniteTimeSpan"/> to never retire. The default is <see cref="DefaultIdleTimeout"/>.</value>
    public TimeSpan IdleTimeout { get; set; } = DefaultIdleTimeout;

    /// <summary>
    /// Gets or sets the most partitions alive at once. An add whose key would create one more throws
    /// <see cref="TooManyPartitionsException"/>. Partitions being retired do not count.
    /// </summary>
    /// <value>At least 1. The default is <see cref="DefaultMaxPartitions"/> (1,024).</value>
    public int MaxPartitions { get; set; } = DefaultMaxPartitions;

    /// <summary>
    /// Gets or sets the most extra delay added to each partition's <see cref="BatcherOptions.MaxBatchDelay"/>: every
    /// partition draws its own extra, uniformly between zero and this value, when it is created. Partitions fed by
    /// the same producers then do not all dispatch at the same moment. It applies only to a positive, finite delay.
    /// </summary>
    /// <value>Zero or positive. The default is <see cref="TimeSpan.Zero"/>: each partition's delay timer still starts at its own first job.</value>
    public TimeSpan MaxBatchDelayJitter { get; set; } = TimeSpan.Zero;

    /// <summary>Gets or sets the comparer of partition keys.</summary>
    /// <value>The default is <see langword="null"/>: <see cref="EqualityComparer{T}.Default"/>.</value>
    public IEqualityComparer<TKey>? KeyComparer { get; set; }

    /// <summary>Test hook: the source of the jitter draws, in [0, 1). Null means <see cref="Random.Shared"/>.</summary>
    internal Func<double>? Randomizer { get; set; }

    /// <summary>Checks every setting and returns one message per invalid setting, each naming the setting.</summary>
    /// <returns>The problems found; empty when the options are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Partition is null)
        {
            errors.Add($"{nameof(Partition)} must not be null.");
        }
        else
        {
            errors.AddRange(Partition.Validate());
        }

        if (IdleTimeout <= TimeSpan.Zero && IdleTimeout != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"{nameof(IdleTimeout)} must be positive or Timeout.InfiniteTimeSpan, but was {IdleTimeout}.");
        }

        if (MaxPartitions < 1)
        {
            errors.Add($"{nameof(MaxPartitions)} must be at least 1, but was {MaxPartitions}.");
        }

        if (MaxBatchDelayJitter < TimeSpan.Zero)
        {
            errors.Add($"{nameof(MaxBatchDelayJitter)} must be zero or positive, but was {MaxBatchDelayJitter}.");
        }

        return errors;
    }
}
