using System.Globalization;

namespace Tinybatch.EventStream;

/// <summary>Parses the demo's command line: <c>--name value</c> or <c>--name=value</c>, plus flags.</summary>
internal static class DemoOptionsParser
{
    /// <summary>The usage text.</summary>
    public const string Usage = """
        Tinybatch event stream: events go through a batcher into SQLite (default) or PostgreSQL, one transaction per
        batch, and are counted back from the database.

        usage: dotnet run -c Release --project samples/Tinybatch.EventStream -- [options]

          --events N            events to generate (default 1,000,000; 200,000 per point with --sweep)
          --input FILE|-        read NDJSON events (one JSON object per line) from FILE, or stdin with -
          --batch-size N        MaxBatchSize, events per transaction (default 1000)
          --delay MS            MaxBatchDelay in milliseconds (default 50)
          --capacity N          buffered events before producers wait (default 4000)
          --producers N         concurrent producers of generated events (default 2)
          --concurrency N       batches written at once (default 2; SQLite always 1: one writer)
          --postgres CONNSTR    write to PostgreSQL with binary COPY, e.g. "Host=127.0.0.1;Port=55432;Username=postgres;Database=tinybatch"
          --db PATH             SQLite database file (default: a new file under the temp folder)
          --sync full|normal    SQLite synchronous setting (default full: durable = committed and fsynced; normal: committed, fsync at checkpoints)
          --table NAME          table name (default events / tinybatch_events)
          --compare             also write events one INSERT per row (no batcher) and print the speed-up
          --baseline-events N   most events for the per-row baseline (default 20,000)
          --baseline-seconds S  time budget of the per-row baseline (default 10)
          --sweep               run several batch sizes, print a table and write a PNG chart
          --sweep-sizes LIST    batch sizes of the sweep (default 1,10,100,1000,10000)
          --sweep-seconds S     time budget per sweep point: it then stops intake, drains and verifies (default 20)
          --chart PATH          where the sweep chart goes (default: next to the database)
          --plain               plain progress lines even on a terminal
          --help                this text

        Ctrl+C stops intake, drains and commits what was accepted, and prints the summary.
        """;

    /// <summary>Parses <paramref name="args"/>.</summary>
    /// <param name="args">The command line.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">An option is unknown, lacks its value, or has a bad value; the message names it.</exception>
    public static DemoOptions Parse(IReadOnlyList<string> args)
    {
        var options = new DemoOptions();
        RunSettings settings = options.Settings;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string name = arg;
            string? inline = null;
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                name = arg[..eq];
                inline = arg[(eq + 1)..];
            }

            string Value()
            {
                if (inline is not null)
                {
                    return inline;
                }

                if (i + 1 >= args.Count)
                {
                    throw new ArgumentException($"Option {name} needs a value.");
                }

                return args[++i];
            }

            switch (name)
            {
                case "--events": options = options with { Events = Long(name, Value(), min: 0) }; break;
                case "--input": options = options with { Input = Value() }; break;
                case "--batch-size": settings = settings with { BatchSize = Int(name, Value(), min: 1) }; break;
                case "--delay": settings = settings with { Delay = TimeSpan.FromMilliseconds(Int(name, Value(), min: 0)) }; break;
                case "--capacity": settings = settings with { Capacity = Int(name, Value(), min: 1) }; break;
                case "--concurrency": settings = settings with { Concurrency = Int(name, Value(), min: 1) }; break;
                case "--producers": options = options with { Producers = Int(name, Value(), min: 1) }; break;
                case "--postgres": options = options with { Postgres = NotEmpty(name, Value()) }; break;
                case "--db": options = options with { Database = NotEmpty(name, Value()) }; break;
                case "--sync": options = options with { Synchronous = Synchronous(name, Value()) }; break;
                case "--table": options = options with { Table = TableName.Validate(Value()) }; break;
                case "--compare": options = options with { Compare = true }; break;
                case "--baseline-events": options = options with { BaselineEvents = Long(name, Value(), min: 1) }; break;
                case "--baseline-seconds": options = options with { BaselineBudget = TimeSpan.FromSeconds(Int(name, Value(), min: 1)) }; break;
                case "--sweep": options = options with { Sweep = true }; break;
                case "--sweep-sizes": options = options with { SweepSizes = Sizes(name, Value()) }; break;
                case "--sweep-seconds": options = options with { SweepPointBudget = TimeSpan.FromSeconds(Int(name, Value(), min: 1)) }; break;
                case "--chart": options = options with { Chart = NotEmpty(name, Value()) }; break;
                case "--plain": options = options with { Plain = true }; break;
                case "--help" or "-h": options = options with { Help = true }; break;
                default: throw new ArgumentException($"Unknown option '{arg}'. Run with --help for the options.");
            }
        }

        options = options with { Settings = settings };
        if (options.Sweep && options.Compare)
        {
            throw new ArgumentException("--sweep and --compare cannot be combined: run them one at a time.");
        }

        if (options.Sweep && options.Input is not null)
        {
            throw new ArgumentException("--sweep generates its events: it cannot be combined with --input.");
        }

        if (options.Compare && options.Input == "-")
        {
            throw new ArgumentException("--compare reads the events twice: give --input a file, not stdin.");
        }

        if (options.Input is not null && options.Events is not null)
        {
            throw new ArgumentException("--events counts generated events: it cannot be combined with --input.");
        }

        return options;
    }

    private static long Long(string name, string value, long min)
    {
        if (!long.TryParse(value.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out long n) || n < min)
        {
            throw new ArgumentException($"Option {name} needs a whole number of at least {min}, but got '{value}'.");
        }

        return n;
    }

    private static int Int(string name, string value, int min)
    {
        long n = Long(name, value, min);
        if (n > int.MaxValue)
        {
            throw new ArgumentException($"Option {name} is too large: '{value}'.");
        }

        return (int)n;
    }

    private static SqliteSynchronous Synchronous(string name, string value) => value.ToUpperInvariant() switch
    {
        "NORMAL" => SqliteSynchronous.Normal,
        "FULL" => SqliteSynchronous.Full,
        _ => throw new ArgumentException($"Option {name} needs 'normal' or 'full', but got '{value}'."),
    };

    private static string NotEmpty(string name, string value) =>
        string.IsNullOrWhiteSpace(value) ? throw new ArgumentException($"Option {name} needs a non-empty value.") : value;

    private static int[] Sizes(string name, string value)
    {
        int[] sizes = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => Int(name, s, min: 1))
            .ToArray();
        return sizes.Length > 0 ? sizes : throw new ArgumentException($"Option {name} needs a comma-separated list of batch sizes.");
    }
}
