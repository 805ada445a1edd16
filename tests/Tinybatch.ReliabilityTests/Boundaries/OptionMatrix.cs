using static Tinybatch.ReliabilityTests.Boundaries.BoundaryValues;

namespace Tinybatch.ReliabilityTests.Boundaries;

/// <summary>
/// Every numeric and duration option, at every boundary value. The decisions: MaxBatchSize [1, int.MaxValue]; Capacity
/// [MaxBatchSize, int.MaxValue]; MaxConcurrentBatches [1, int.MaxValue]; MaxBatchWeight, MaxBufferedWeight
/// [1, long.MaxValue]; MaxJobWeight null or [1, long.MaxValue]; MaxBatchDelay zero, positive or Infinite; HandlerTimeout
/// positive or Infinite; Retry.MaxAttempts [1, int.MaxValue]; Retry.Delay anything; IdleTimeout positive or Infinite;
/// MaxPartitions [1, int.MaxValue]; MaxBatchDelayJitter zero or positive; the loader's counts as its validation says,
/// its delay as the batcher's. Durations above the timer limit work.
/// </summary>
public static class OptionMatrix
{
    private const int DefaultMaxBatchSize = BatcherOptions.DefaultMaxBatchSize;

    public static readonly IReadOnlyList<OptionCase> All = [.. Build()];

    public static readonly IReadOnlyDictionary<string, OptionCase> ById = All.ToDictionary(c => c.Id);

    /// <summary>The theory data: one row per case id.</summary>
    public static IEnumerable<object[]> Ids => All.Select(c => new object[] { c.Id });

    private static IEnumerable<OptionCase> Build()
    {
        foreach (OptionTarget target in new[] { OptionTarget.Batcher, OptionTarget.ResultlessBatcher })
        {
            foreach (OptionCase c in CoreCases(target))
            {
                yield return c;
            }
        }

        foreach (OptionCase c in PartitionCases())
        {
            yield return c;
        }

        foreach (OptionCase c in LoaderCases())
        {
            yield return c;
        }

        foreach (OptionCase c in HostingCases())
        {
            yield return c;
        }
    }

    private static IEnumerable<OptionCase> CoreCases(OptionTarget target)
    {
        foreach ((string label, int value, bool valid) in Counts(1))
        {
            // MaxBatchSize at int.MaxValue needs a Capacity as large: Capacity must hold a full batch.
            yield return new(target, "MaxBatchSize", label, valid)
            {
                Core = o => { o.MaxBatchSize = value; o.Capacity = Math.Max(o.Capacity, value); },
            };
        }

        foreach ((string label, int value, bool valid) in Counts(DefaultMaxBatchSize))
        {
            yield return new(target, "Capacity", label, valid) { Core = o => o.Capacity = value };
        }

        foreach ((string label, int value, bool valid) in Counts(1))
        {
            yield return new(target, "MaxConcurrentBatches", label, valid) { Core = o => o.MaxConcurrentBatches = value };
        }

        // Near int.MaxValue: a pool sized by this option would not fit in an array (today: OutOfMemoryException).
        yield return new(target, "MaxConcurrentBatches", "int.MaxValue-3", true) { Core = o => o.MaxConcurrentBatches = int.MaxValue - 3 };

        foreach ((string label, long value, bool valid) in Weights)
        {
            yield return new(target, "MaxBatchWeight", label, valid) { Core = o => o.MaxBatchWeight = value };
            yield return new(target, "MaxBufferedWeight", label, valid) { Core = o => o.MaxBufferedWeight = value };
            yield return new(target, "MaxJobWeight", label, valid) { Core = o => o.MaxJobWeight = value };
        }

        yield return new(target, "MaxJobWeight", "null", true) { Core = o => o.MaxJobWeight = null };

        foreach ((string label, TimeSpan value) in Durations)
        {
            yield return new(target, "MaxBatchDelay", label, ZeroPositiveOrInfinite(value)) { Core = o => o.MaxBatchDelay = value, Delay = value };
            yield return new(target, "HandlerTimeout", label, PositiveOrInfinite(value)) { Core = o => o.HandlerTimeout = value };
            yield return new(target, "Retry.Delay", label, true) { Retry = r => r.Delay = value, RetryDelay = value };
        }

        foreach ((string label, int value, bool valid) in Counts(1))
        {
            yield return new(target, "Retry.MaxAttempts", label, valid) { Retry = r => r.MaxAttempts = value };
        }
    }

    private static IEnumerable<OptionCase> PartitionCases()
    {
        const OptionTarget target = OptionTarget.Partitioned;
        foreach ((string label, TimeSpan value) in Durations)
        {
            yield return new(target, "IdleTimeout", label, PositiveOrInfinite(value)) { Partition = o => o.IdleTimeout = value, IdleTimeout = value };

            // The jitter applies to a positive, finite delay (1 s here); every partition draws the whole jitter (a
            // randomizer of 1), and delay + jitter saturates at TimeSpan.MaxValue.
            TimeSpan delay = TimeSpan.FromSeconds(1);
            TimeSpan effective = value >= TimeSpan.Zero && value <= TimeSpan.MaxValue - delay ? delay + value : TimeSpan.MaxValue;
            yield return new(target, "MaxBatchDelayJitter", label, NonNegative(value))
            {
                Partition = o => { o.MaxBatchDelayJitter = value; o.Partition.MaxBatchDelay = delay; o.Randomizer = () => 1.0; },
                Delay = effective,
            };
        }

        foreach ((string label, int value, bool valid) in Counts(1))
        {
            yield return new(target, "MaxPartitions", label, valid) { Partition = o => o.MaxPartitions = value };
        }

        // The options of each partition are batcher options: their boundaries hold there too.
        foreach ((string label, TimeSpan value) in Durations.Where(d => d.Label is "limit+1ms" or "MaxValue"))
        {
            yield return new(target, "Partition.MaxBatchDelay", label, true) { Core = o => o.MaxBatchDelay = value, Delay = value };
            yield return new(target, "Partition.HandlerTimeout", label, true) { Core = o => o.HandlerTimeout = value };
        }

        yield return new(target, "Partition.MaxBatchSize", "int.MaxValue", true) { Core = o => { o.MaxBatchSize = int.MaxValue; o.Capacity = int.MaxValue; } };
    }

    private static IEnumerable<OptionCase> LoaderCases()
    {
        const OptionTarget target = OptionTarget.DataLoader;
        foreach ((string label, int value, bool valid) in Counts(1))
        {
            yield return new(target, "MaxBatchSize", label, valid) { Loader = o => o.MaxBatchSize = value };
            yield return new(target, "MaxConcurrentFetches", label, valid) { Loader = o => o.MaxConcurrentFetches = value };
            yield return new(target, "CacheSizeLimit", label, valid) { Loader = o => o.CacheSizeLimit = value };
        }

        yield return new(target, "CacheSizeLimit", "null", true) { Loader = o => o.CacheSizeLimit = null };
        foreach ((string label, TimeSpan value) in Durations)
        {
            yield return new(target, "MaxBatchDelay", label, ZeroPositiveOrInfinite(value)) { Loader = o => o.MaxBatchDelay = value, Delay = value };
        }
    }

    private static IEnumerable<OptionCase> HostingCases()
    {
        const OptionTarget target = OptionTarget.Hosting;
        static KeyValuePair<string, string> Key(string key, string text) => new(key, text);

        foreach ((string label, int value, bool valid) in Counts(1))
        {
            string text = ConfigText(value);
            yield return new(target, "MaxBatchSize", label, valid)
            {
                Config = value == int.MaxValue ? [Key("MaxBatchSize", text), Key("Capacity", text)] : [Key("MaxBatchSize", text)],
            };
            yield return new(target, "MaxConcurrentBatches", label, valid) { Config = [Key("MaxConcurrentBatches", text)] };
            yield return new(target, "Retry:MaxAttempts", label, valid) { Config = [Key("Retry:MaxAttempts", text)] };
        }

        foreach ((string label, int value, bool valid) in Counts(DefaultMaxBatchSize))
        {
            yield return new(target, "Capacity", label, valid) { Config = [Key("Capacity", ConfigText(value))] };
        }

        // max + 1 exists only as text: it must be refused naming the key, not wrap around or be dropped.
        const string IntMaxPlusOne = "2147483648";
        const string LongMaxPlusOne = "9223372036854775808";
        const string DurationMaxPlusOne = "10675199.02:48:05.4775808";
        foreach (string key in new[] { "MaxBatchSize", "Capacity", "MaxConcurrentBatches", "Retry:MaxAttempts" })
        {
            yield return new(target, key, "int.MaxValue+1", false) { Config = [Key(key, IntMaxPlusOne)] };
        }

        foreach (string key in new[] { "MaxBatchWeight", "MaxBufferedWeight", "MaxJobWeight" })
        {
            foreach ((string label, long value, bool valid) in Weights)
            {
                yield return new(target, key, label, valid) { Config = [Key(key, ConfigText(value))] };
            }

            yield return new(target, key, "long.MaxValue+1", false) { Config = [Key(key, LongMaxPlusOne)] };
        }

        foreach ((string label, TimeSpan value) in Durations)
        {
            string text = ConfigText(value);
            yield return new(target, "MaxBatchDelay", label, ZeroPositiveOrInfinite(value)) { Config = [Key("MaxBatchDelay", text)], Delay = value };
            yield return new(target, "HandlerTimeout", label, PositiveOrInfinite(value)) { Config = [Key("HandlerTimeout", text)] };
            yield return new(target, "Retry:Delay", label, true) { Config = [Key("Retry:Delay", text)], RetryDelay = value };
        }

        foreach (string key in new[] { "MaxBatchDelay", "HandlerTimeout", "Retry:Delay" })
        {
            yield return new(target, key, "MaxValue+1tick", false) { Config = [Key(key, DurationMaxPlusOne)] };
        }
    }
}
