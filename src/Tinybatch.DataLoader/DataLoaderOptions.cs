namespace Tinybatch;

/// <summary>
/// The settings of a <see cref="DataLoader{TKey, TValue}"/> that can be bound from configuration. They are validated
/// and copied when the loader is built: changing this object afterwards has no effect on that loader.
/// </summary>
public class DataLoaderOptions
{
    /// <summary>The default of <see cref="MaxBatchSize"/>: 100 distinct keys.</summary>
    public const int DefaultMaxBatchSize = 100;

    /// <summary>The default of <see cref="MaxBatchDelay"/>: one millisecond.</summary>
    public static readonly TimeSpan DefaultMaxBatchDelay = TimeSpan.FromMilliseconds(1);

    /// <summary>Gets or sets the most distinct keys one fetch receives. Duplicate keys are counted once.</summary>
    /// <value>At least 1. The default is <see cref="DefaultMaxBatchSize"/> (100).</value>
    public int MaxBatchSize { get; set; } = DefaultMaxBatchSize;

    /// <summary>
    /// Gets or sets how long the first key of a batch waits for more keys before the fetch is called. A batch is also
    /// fetched as soon as it holds <see cref="MaxBatchSize"/> distinct keys.
    /// </summary>
    /// <value>
    /// The default is <see cref="DefaultMaxBatchDelay"/> (1 ms), which suits a web request whose code issues its loads
    /// in one burst. <see cref="TimeSpan.Zero"/> fetches as soon as the batcher's loop sees the first pending key: the
    /// batch holds the keys enqueued by then, and while a fetch runs, later keys gather for the next one.
    /// <see cref="Timeout.InfiniteTimeSpan"/> fetches only full batches (or at dispose). With the system clock, a
    /// timer has the operating system's granularity, so 1 ms may take a few milliseconds.
    /// </value>
    public TimeSpan MaxBatchDelay { get; set; } = DefaultMaxBatchDelay;

    /// <summary>Gets or sets how many fetches of this loader may run at once.</summary>
    /// <value>
    /// At least 1. The default is 1: fetches of one loader often share a connection (one web request's database
    /// connection or unit of work) that does not allow concurrent commands.
    /// </value>
    public int MaxConcurrentFetches { get; set; } = 1;

    /// <summary>
    /// Gets or sets whether the loader keeps the values it loaded for its lifetime (for example one web request),
    /// so that a key is fetched at most once. Failed keys are never kept; keys the source had no value for are.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool CacheEnabled { get; set; } = true;

    /// <summary>
    /// Gets or sets the most values the cache keeps. Beyond it, the least recently used value is evicted. Keys whose
    /// fetch is in flight are not counted: they are tracked until their fetch ends.
    /// </summary>
    /// <value>At least 1, or <see langword="null"/> (the default) for no limit.</value>
    public int? CacheSizeLimit { get; set; }

    /// <summary>Gets or sets the loader's name, used in exception messages and as the batcher's metric tag.</summary>
    /// <value>The default is <c>"dataloader"</c>.</value>
    public string Name { get; set; } = "dataloader";

    /// <summary>Gets or sets the clock that drives <see cref="MaxBatchDelay"/>.</summary>
    /// <value>The default is <see cref="System.TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Copies every setting of this object into <paramref name="target"/>.</summary>
    /// <param name="target">The options to overwrite.</param>
    public void CopyTo(DataLoaderOptions target)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.MaxBatchSize = MaxBatchSize;
        target.MaxBatchDelay = MaxBatchDelay;
        target.MaxConcurrentFetches = MaxConcurrentFetches;
        target.CacheEnabled = CacheEnabled;
        target.CacheSizeLimit = CacheSizeLimit;
        target.Name = Name;
        target.TimeProvider = TimeProvider;
    }

    /// <summary>Checks every setting and returns one message per invalid setting, each naming the setting.</summary>
    /// <returns>The problems found; empty when the options are valid.</returns>
    public IReadOnlyList<string> Validate()
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

        if (MaxConcurrentFetches < 1)
        {
            errors.Add($"{nameof(MaxConcurrentFetches)} must be at least 1, but was {MaxConcurrentFetches}.");
        }

        if (CacheSizeLimit is < 1)
        {
            errors.Add($"{nameof(CacheSizeLimit)} must be at least 1 or null (no limit), but was {CacheSizeLimit}.");
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
