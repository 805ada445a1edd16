using Tinybatch.EventStream;

// The event-stream demo: see the README section "The main job", or run with --help.
if (Tinybatch.EventStream.Durable.DurableDemoOptions.IsRequested(args))
{
    // --durable DIR: the journalled intake (README "Surviving a crash"); its own options, see DurableDemoOptions.Usage.
    return await Tinybatch.EventStream.Durable.DurableEntry.RunAsync(args);
}

DemoOptions options;
try
{
    options = DemoOptionsParser.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 2;
}

// First Ctrl+C: stop intake, drain, commit, verify, summarize. A second one ends the process at once.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (!stop.IsCancellationRequested)
    {
        e.Cancel = true;
        Console.Error.WriteLine("stopping: intake closed; draining what was accepted (Ctrl+C again to abort)");
        stop.Cancel();
    }
};

IProgressDisplay progress = !options.Plain && TerminalProgressDisplay.IsSupported
    ? new TerminalProgressDisplay()
    : new PlainProgressDisplay(Console.Out, TimeSpan.FromSeconds(1));

try
{
    return await Demo.RunAsync(options, Console.Out, Console.In, progress, stop.Token);
}
catch (Exception ex) when (ex is FileNotFoundException or Npgsql.NpgsqlException or Microsoft.Data.Sqlite.SqliteException)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}
