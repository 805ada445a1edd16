using Spectre.Console;

namespace Tinybatch.EventStream;

/// <summary>A live progress bar (Spectre.Console), for an interactive terminal only: without one it prints nothing.</summary>
internal sealed class TerminalProgressDisplay : IProgressDisplay
{
    /// <summary>
    /// Gets a value indicating whether a live bar can be shown: output is a terminal and TERM is not "dumb".
    /// </summary>
    public static bool IsSupported =>
        !Console.IsOutputRedirected
        && !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal)
        && AnsiConsole.Profile.Capabilities.Interactive;

    /// <inheritdoc/>
    public Task ShowAsync(Func<BatcherCounters> read, long? total, Task until) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new ElapsedTimeColumn(),
                new SpinnerColumn())
            .StartAsync(async context =>
            {
                // With an unknown total (stdin) the bar tracks accepted events, so it still moves.
                ProgressTask task = context.AddTask("committed", maxValue: Math.Max(1, total ?? 1));
                while (true)
                {
                    BatcherCounters counters = read();
                    if (total is null)
                    {
                        task.MaxValue = Math.Max(1, counters.Accepted);
                    }

                    task.Value = counters.Succeeded;
                    task.Description = $"committed {counters.Succeeded:N0}, batches {counters.Batches:N0}";
                    if (until.IsCompleted)
                    {
                        break;
                    }

                    await Task.WhenAny(until, Task.Delay(100));
                }

                task.StopTask();
            });
}
