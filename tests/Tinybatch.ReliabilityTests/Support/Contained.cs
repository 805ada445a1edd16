using System.Diagnostics;

namespace Tinybatch.ReliabilityTests.Support;

/// <summary>
/// Waits that fail fast and say why: as soon as an exception escapes into the thread pool (recorded by
/// <see cref="UnhandledExceptionMonitor"/>, which on .NET 10 keeps the process alive), or after a hang guard of at most
/// 10 s. A defect that today aborts the process or kills the dispatch loop then fails its own test in milliseconds,
/// with the escaped exception in the message, instead of hanging the run.
/// </summary>
internal static class Contained
{
    /// <summary>The guard: <see cref="HangGuard.Timeout"/>, capped at 10 s (every wait here is on a fake clock or a gate).</summary>
    public static readonly TimeSpan Guard = HangGuard.Timeout < TimeSpan.FromSeconds(10) ? HangGuard.Timeout : TimeSpan.FromSeconds(10);

    /// <summary>A mark of the monitor's record, taken before the scenario starts.</summary>
    public static int Mark() => UnhandledExceptionMonitor.Count;

    /// <summary>Throws if an exception escaped since <paramref name="mark"/>.</summary>
    public static void ThrowIfEscaped(int mark, string what)
    {
        IReadOnlyList<(string Kind, Exception Exception)> escaped = UnhandledExceptionMonitor.Since(mark);
        if (escaped.Count > 0)
        {
            throw new EscapedException(
                $"{what}: {escaped.Count} exception(s) escaped into the thread pool or went unobserved: "
                + string.Join(" | ", escaped.Select(e => $"{e.Kind}: {e.Exception.GetType().Name}: {e.Exception.Message}")),
                escaped[0].Exception);
        }
    }

    /// <summary>Waits for <paramref name="task"/>; fails on an escaped exception or a hang.</summary>
    public static async Task Within(this Task task, int mark, string what)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            while (!task.IsCompleted)
            {
                ThrowIfEscaped(mark, what);
                if (clock.Elapsed > Guard)
                {
                    throw new TimeoutException($"{what} did not complete within {Guard.TotalSeconds} s: it hangs.");
                }

                await Task.WhenAny(task, Task.Delay(5));
            }

            ThrowIfEscaped(mark, what);
        }
        catch
        {
            // Given up on: whatever it ends with later is observed here, not reported as one more escape.
            Observe(task);
            throw;
        }

        await task;
    }

    /// <summary>Marks the eventual exception of <paramref name="task"/> as observed.</summary>
    public static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>Waits for <paramref name="task"/>'s result; fails on an escaped exception or a hang.</summary>
    public static async Task<T> Within<T>(this Task<T> task, int mark, string what)
    {
        await ((Task)task).Within(mark, what);
        return await task;
    }

    public static Task Within(this ValueTask task, int mark, string what) => task.AsTask().Within(mark, what);

    public static Task<T> Within<T>(this ValueTask<T> task, int mark, string what) => task.AsTask().Within(mark, what);

    /// <summary>Waits until <paramref name="task"/> ends, whatever its outcome (an expected exception included).</summary>
    public static Task Settled(this Task task, int mark, string what) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)
            .Within(mark, what);

    /// <summary>
    /// Waits for <paramref name="idle"/> (a loop's idle hook); fails at once, with the job's exception, if
    /// <paramref name="outcome"/> faulted first: a dead loop fails what it holds and never sleeps again.
    /// </summary>
    public static async Task IdleUnlessFailed(this Task idle, Task outcome, int mark, string what)
    {
        await Task.WhenAny(idle, outcome).Within(mark, what);
        if (outcome.IsFaulted)
        {
            Observe(idle);
            throw new InvalidOperationException($"{what}: the job failed: {outcome.Exception!.InnerException}", outcome.Exception!.InnerException);
        }

        await idle.Within(mark, what);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails on an escaped exception or after the guard.</summary>
    public static async Task Until(Func<bool> condition, int mark, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            ThrowIfEscaped(mark, what);
            if (clock.Elapsed > Guard)
            {
                throw new TimeoutException($"{what} did not happen within {Guard.TotalSeconds} s.");
            }

            await Task.Delay(1);
        }
    }
}

/// <summary>An exception escaped into the thread pool, or went unobserved, during a test's scenario.</summary>
public sealed class EscapedException(string message, Exception inner) : Exception(message, inner);
