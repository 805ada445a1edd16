// Compiled into every test project by tests/Directory.Build.props: the whole suite fails on an exception that escaped.
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Tinybatch;

/// <summary>
/// Records every exception that escaped in this test process: unobserved task exceptions
/// (<see cref="TaskScheduler.UnobservedTaskException"/>) and unhandled ones (a thread-pool work item, a timer callback,
/// an <c>async void</c>). Hooked by a module initializer, so it is in place before the first test runs.
/// <see cref="MonitoredTestFramework"/> fails the test assembly at its end if anything was recorded.
/// </summary>
/// <remarks>
/// On .NET 10 an unhandled exception is also contained: <c>ExceptionHandling.SetUnhandledExceptionHandler</c> records it
/// and lets the process live, so a library defect that would abort the process fails its test (and the assembly)
/// instead of killing the test host. On .NET 8 the process still dies; the exception is written to stderr and to
/// TestResults/unhandled.txt first, and the crashed host fails the run.
/// </remarks>
internal static class UnhandledExceptionMonitor
{
    /// <summary>The message of exceptions left unobserved or unhandled on purpose by the monitor's self-tests.</summary>
    public const string SelfTestMarker = "unhandled-exception monitor self-test";

    private static readonly ConcurrentQueue<(string Kind, Exception Exception)> Seen = new();

    /// <summary>Gets whether unhandled exceptions are contained (recorded, process kept alive) in this runtime.</summary>
    public static bool ContainsUnhandled { get; private set; }

    /// <summary>Gets how many exceptions were recorded so far, the self-tests' included: a mark for <see cref="Since"/>.</summary>
    public static int Count => Seen.Count;

    [ModuleInitializer]
    internal static void Hook()
    {
        TaskScheduler.UnobservedTaskException += (_, e) =>
        {
            Seen.Enqueue(("unobserved task exception", e.Exception));
            e.SetObserved();
        };
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            // Reached only when the process is about to die (.NET 8, or a fatal error): leave a trace first.
            var exception = e.ExceptionObject as Exception ?? new InvalidOperationException($"non-exception thrown: {e.ExceptionObject}");
            Seen.Enqueue(("unhandled exception (process terminating)", exception));
            string text = $"unhandled exception, the test process terminates: {exception}";
            Console.Error.WriteLine(text);
            try
            {
                ResultsFile.Append("unhandled.txt", text);
            }
            catch (IOException)
            {
                // Best effort: the process is dying.
            }
        };
#if NET10_0_OR_GREATER
        try
        {
            System.Runtime.ExceptionServices.ExceptionHandling.SetUnhandledExceptionHandler(exception =>
            {
                Seen.Enqueue(("unhandled exception", exception));
                return true;
            });
            ContainsUnhandled = true;
        }
        catch (InvalidOperationException)
        {
            // Another handler was set first (a test host of its own): keep the default, which terminates.
        }
#endif
    }

    /// <summary>Gets every recorded exception except the self-tests' markers.</summary>
    public static IReadOnlyList<(string Kind, Exception Exception)> Unexpected =>
        [.. Seen.Where(e => !IsMarker(e.Exception))];

    /// <summary>Whether a self-test's marker exception of this kind was recorded.</summary>
    public static bool SawMarker(string kind) => Seen.Any(e => e.Kind == kind && IsMarker(e.Exception));

    /// <summary>The exceptions recorded after <paramref name="mark"/> (a <see cref="Count"/> read earlier), markers excluded.</summary>
    public static IReadOnlyList<(string Kind, Exception Exception)> Since(int mark) =>
        [.. Seen.Skip(mark).Where(e => !IsMarker(e.Exception))];

    /// <summary>Finalizes every dropped task (their finalizers raise the unobserved event), then returns what was recorded.</summary>
    public static IReadOnlyList<(string Kind, Exception Exception)> Collect()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        return Unexpected;
    }

    /// <summary>The failure to report for <paramref name="seen"/>, or null when it is empty.</summary>
    public static Exception? Verdict(string scope, IReadOnlyList<(string Kind, Exception Exception)> seen) =>
        seen.Count == 0
            ? null
            : new InvalidOperationException(
                $"{seen.Count} exception(s) escaped during {scope} (no exception may reach the thread pool or go unobserved): "
                + string.Join(" | ", seen.Select(e => $"{e.Kind}: {e.Exception}")));

    private static bool IsMarker(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e.Message == SelfTestMarker)
            {
                return true;
            }

            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsMarker))
            {
                return true;
            }
        }

        return false;
    }
}
