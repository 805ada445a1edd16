namespace Tinybatch.EventStream.Durable;

/// <summary>The entry of <c>--durable</c>: parse, run until done or Ctrl+C, report errors as one line.</summary>
internal static class DurableEntry
{
    public static async Task<int> RunAsync(string[] args)
    {
        DurableDemoOptions options;
        try
        {
            options = DurableDemoOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        return await DurableDemo.RunAsync(options, Console.Out, stop.Token);
    }
}
