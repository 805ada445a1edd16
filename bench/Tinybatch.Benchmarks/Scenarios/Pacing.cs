using System.Diagnostics;

namespace Tinybatch.Benchmarks.Scenarios;

/// <summary>
/// The 1 ms pacing of S4 and of <c>diag handoff</c>. <c>Task.Delay(1)</c> or <c>Thread.Sleep(1)</c> would take a timer
/// tick, several milliseconds on these machines, so the producer waits on the high-resolution clock instead.
/// </summary>
internal static class Pacing
{
    /// <summary>One millisecond in <see cref="Stopwatch"/> ticks: the interval between two items.</summary>
    public static readonly long IntervalTicks = Stopwatch.Frequency / 1000;

    private static readonly long YieldAboveTicks = Stopwatch.Frequency / 20_000;

    /// <summary>
    /// Returns at <paramref name="deadline"/> (a <see cref="Stopwatch.GetTimestamp"/> value). It yields while more
    /// than 50 µs away, so the other threads of a 2-core machine can run, and spins for the rest.
    /// </summary>
    public static void WaitUntil(long deadline)
    {
        long now;
        while ((now = Stopwatch.GetTimestamp()) < deadline)
        {
            if (deadline - now > YieldAboveTicks)
            {
                Thread.Yield();
            }
            else
            {
                Thread.SpinWait(20);
            }
        }
    }
}
