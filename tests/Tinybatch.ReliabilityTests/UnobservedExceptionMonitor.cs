using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Tinybatch.ReliabilityTests;

/// <summary>
/// Records every TaskScheduler.UnobservedTaskException raised in this test process. Hooked by a module initializer,
/// so it is in place before the first test runs.
/// </summary>
public static class UnobservedExceptionMonitor
{
    /// <summary>The message of the one exception the monitor's self-test leaves unobserved on purpose.</summary>
    public const string SelfTestMarker = "unobserved-exception monitor self-test";

    private static readonly ConcurrentQueue<Exception> Seen = new();

    /// <summary>Gets every unobserved exception recorded so far, the self-test's excepted.</summary>
    public static IReadOnlyList<Exception> Unexpected =>
        [.. Seen.Where(e => e.InnerException?.Message != SelfTestMarker)];

    public static bool SawSelfTest => Seen.Any(e => e.InnerException?.Message == SelfTestMarker);

    [ModuleInitializer]
    internal static void Hook() =>
        TaskScheduler.UnobservedTaskException += (_, e) =>
        {
            Seen.Enqueue(e.Exception);
            e.SetObserved();
        };

    /// <summary>Finalizes every dropped task (their finalizers raise the event), then returns what was recorded.</summary>
    public static IReadOnlyList<Exception> Collect()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        return Unexpected;
    }
}
