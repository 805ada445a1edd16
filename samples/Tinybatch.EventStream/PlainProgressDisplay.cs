using System.Diagnostics;
using System.Globalization;

namespace Tinybatch.EventStream;

/// <summary>Progress as plain periodic lines, for logs and pipes where a live bar would print nothing.</summary>
internal sealed class PlainProgressDisplay : IProgressDisplay
{
    private readonly TextWriter _output;
    private readonly TimeSpan _interval;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="output">Where the lines go.</param>
    /// <param name="interval">Time between lines.</param>
    public PlainProgressDisplay(TextWriter output, TimeSpan interval)
    {
        _output = output;
        _interval = interval;
    }

    /// <inheritdoc/>
    public async Task ShowAsync(Func<BatcherCounters> read, long? total, Task until)
    {
        var clock = Stopwatch.StartNew();
        while (!until.IsCompleted)
        {
            await Task.WhenAny(until, Task.Delay(_interval));
            if (!until.IsCompleted)
            {
                _output.WriteLine(Format(read(), total, clock.Elapsed));
            }
        }
    }

    /// <summary>Formats one progress line.</summary>
    /// <param name="counters">The counters now.</param>
    /// <param name="total">The events expected, if known.</param>
    /// <param name="elapsed">Time since the start.</param>
    /// <returns>The line.</returns>
    internal static string Format(BatcherCounters counters, long? total, TimeSpan elapsed)
    {
        var inv = CultureInfo.InvariantCulture;
        string of = total is { } t && t > 0 ? string.Create(inv, $" of {t:N0} ({100.0 * counters.Succeeded / t:F0}%)") : "";
        double rate = elapsed.TotalSeconds > 0 ? counters.Succeeded / elapsed.TotalSeconds : 0;
        return string.Create(inv, $"progress: {elapsed.TotalSeconds:F1} s, committed {counters.Succeeded:N0}{of}, {rate:N0} events/s, queued {counters.Pending:N0}, batches {counters.Batches:N0}");
    }
}
