using System.Globalization;

namespace Tinybatch.ReliabilityTests.Boundaries;

/// <summary>The values tried for each kind of option, and the rules that say which of them are valid.</summary>
public static class BoundaryValues
{
    /// <summary>The system timer's limit, <c>uint.MaxValue - 1</c> ms (about 49.7 days); FakeTimeProvider has the same.</summary>
    public static readonly TimeSpan TimerLimit = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>Durations: the extremes, the sign boundary, Infinite, and the timer limit ± 1 ms.</summary>
    public static readonly IReadOnlyList<(string Label, TimeSpan Value)> Durations =
    [
        ("MinValue", TimeSpan.MinValue),
        ("-2ms", TimeSpan.FromMilliseconds(-2)),
        ("-1tick", TimeSpan.FromTicks(-1)),
        ("Infinite", Timeout.InfiniteTimeSpan),
        ("0", TimeSpan.Zero),
        ("1tick", TimeSpan.FromTicks(1)),
        ("1ms", TimeSpan.FromMilliseconds(1)),
        ("limit-1ms", TimerLimit - TimeSpan.FromMilliseconds(1)),
        ("limit", TimerLimit),
        ("limit+1ms", TimerLimit + TimeSpan.FromMilliseconds(1)),
        ("MaxValue", TimeSpan.MaxValue),
    ];

    /// <summary>Counts whose minimum is <paramref name="min"/> and maximum <see cref="int.MaxValue"/>: min−1, min, max (max+1 only exists as configuration text).</summary>
    public static IReadOnlyList<(string Label, int Value, bool Valid)> Counts(int min) =>
    [
        ("int.MinValue", int.MinValue, false),
        ("min-1", min - 1, false),
        ("min", min, true),
        ("int.MaxValue", int.MaxValue, true),
    ];

    /// <summary>Weights: [1, <see cref="long.MaxValue"/>].</summary>
    public static readonly IReadOnlyList<(string Label, long Value, bool Valid)> Weights =
    [
        ("long.MinValue", long.MinValue, false),
        ("0", 0, false),
        ("1", 1, true),
        ("long.MaxValue", long.MaxValue, true),
    ];

    /// <summary>MaxBatchDelay: zero, positive (however large) or Infinite.</summary>
    public static bool ZeroPositiveOrInfinite(TimeSpan value) => value >= TimeSpan.Zero || value == Timeout.InfiniteTimeSpan;

    /// <summary>HandlerTimeout and IdleTimeout: positive (however large) or Infinite.</summary>
    public static bool PositiveOrInfinite(TimeSpan value) => value > TimeSpan.Zero || value == Timeout.InfiniteTimeSpan;

    /// <summary>MaxBatchDelayJitter: zero or positive.</summary>
    public static bool NonNegative(TimeSpan value) => value >= TimeSpan.Zero;

    /// <summary>Whether a fake clock can be moved that far (FakeTimeProvider stops at year 9999).</summary>
    public static bool Advanceable(TimeSpan value) => value > TimeSpan.Zero && value <= TimeSpan.FromDays(365 * 1000);

    /// <summary>A duration as configuration text, as the hosting binding reads it.</summary>
    public static string ConfigText(TimeSpan value) =>
        value == Timeout.InfiniteTimeSpan ? "Infinite" : value.ToString("c", CultureInfo.InvariantCulture);

    public static string ConfigText(long value) => value.ToString(CultureInfo.InvariantCulture);
}
