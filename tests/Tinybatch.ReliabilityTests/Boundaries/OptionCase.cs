using Tinybatch.Partitioning;

namespace Tinybatch.ReliabilityTests.Boundaries;

/// <summary>Where an option value is tried.</summary>
public enum OptionTarget
{
    /// <summary><see cref="Batcher{TJob, TResult}"/>: <see cref="BatcherOptions"/> and its <see cref="RetryPolicy"/>.</summary>
    Batcher,

    /// <summary>The result-less <see cref="Batcher{TJob}"/>, with the same options.</summary>
    ResultlessBatcher,

    /// <summary><see cref="PartitionedBatcherOptions{TKey, TJob, TResult}"/>.</summary>
    Partitioned,

    /// <summary><see cref="DataLoaderOptions"/>.</summary>
    DataLoader,

    /// <summary>The batcher options bound from configuration by <c>AddBatcher(...).BindConfiguration(...)</c>.</summary>
    Hosting,
}

/// <summary>
/// One value of one option: either it is refused at construction with an error naming <see cref="Option"/>, or the
/// built object processes one job and stops cleanly.
/// </summary>
public sealed record OptionCase(OptionTarget Target, string Option, string Label, bool Valid)
{
    /// <summary>Gets the case's id, its theory argument: <c>Target.Option=Label</c>.</summary>
    public string Id => $"{Target}.{Option}={Label}";

    /// <summary>Gets the setting of a batcher option (also used for each partition of a partitioned batcher).</summary>
    public Action<BatcherOptions>? Core { get; init; }

    /// <summary>Gets the setting of a retry policy option.</summary>
    public Action<RetryPolicy>? Retry { get; init; }

    /// <summary>Gets the setting of a partitioned batcher option.</summary>
    public Action<PartitionedBatcherOptions<int, int, int>>? Partition { get; init; }

    /// <summary>Gets the setting of a data loader option.</summary>
    public Action<DataLoaderOptions>? Loader { get; init; }

    /// <summary>Gets the configuration keys (under the batcher's section) and their text, for the hosting binding.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Config { get; init; }

    /// <summary>Gets the batch delay the job meets when the value works; null keeps the runner's base (no linger).</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>Gets the retry delay the job meets (its first attempt asks for a retry); null: no retry.</summary>
    public TimeSpan? RetryDelay { get; init; }

    /// <summary>Gets the partition idle timeout that works and is checked to retire the partition.</summary>
    public TimeSpan? IdleTimeout { get; init; }

    public override string ToString() => Id;
}
