using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Tinybatch.EventStream;

/// <summary>
/// The demo's options, declared once for System.CommandLine: each with its help text and default, each parsed with a
/// message that names the option. <see cref="Bind"/> turns a parse into <see cref="DemoOptions"/>. To add an option,
/// declare it here, list it in <see cref="Command"/>, and read it in <see cref="Bind"/>.
/// </summary>
internal sealed class DemoCommandLine
{
    private static readonly DemoOptions Defaults = new();

    private readonly Option<long?> _events = Optional<long?>("--events", "events to generate (default 1,000,000; 200,000 per point with --sweep)", "N", v => Long("--events", v, 0));
    private readonly Option<string?> _input = Optional<string?>("--input", "read NDJSON events (one JSON object per line) from FILE, or stdin with -", "FILE|-", v => v);
    private readonly Option<int> _batchSize = Valued("--batch-size", "MaxBatchSize, events per transaction", "N", Defaults.Settings.BatchSize, v => Int("--batch-size", v, 1));
    private readonly Option<int> _delay = Valued("--delay", "MaxBatchDelay in milliseconds", "MS", (int)Defaults.Settings.Delay.TotalMilliseconds, v => Int("--delay", v, 0));
    private readonly Option<int> _capacity = Valued("--capacity", "buffered events before producers wait", "N", Defaults.Settings.Capacity, v => Int("--capacity", v, 1));
    private readonly Option<int> _producers = Valued("--producers", "concurrent producers of generated events", "N", Defaults.Producers, v => Int("--producers", v, 1));
    private readonly Option<int> _concurrency = Valued("--concurrency", "batches written at once (SQLite always 1: one writer)", "N", Defaults.Settings.Concurrency, v => Int("--concurrency", v, 1));
    private readonly Option<string?> _postgres = Optional<string?>("--postgres", "write to PostgreSQL with binary COPY, e.g. \"Host=127.0.0.1;Port=55432;Username=postgres;Database=tinybatch\"", "CONNSTR", v => NotEmpty("--postgres", v));
    private readonly Option<string?> _database = Optional<string?>("--db", "SQLite database file (default: a new file under the temp folder)", "PATH", v => NotEmpty("--db", v));
    private readonly Option<SqliteSynchronous> _sync = Valued("--sync", "SQLite synchronous setting: full = committed and fsynced; normal = committed, fsync at checkpoints", "full|normal", Defaults.Synchronous, v => Synchronous("--sync", v));
    private readonly Option<string?> _table = Optional<string?>("--table", "table name (default events / tinybatch_events)", "NAME", TableName.Validate);
    private readonly Option<bool> _compare = Flag("--compare", "also write the events one INSERT per row (no batcher) and with the sink alone (no batcher, no producers), and print the speed-up and the ceiling");
    private readonly Option<long> _baselineEvents = Valued("--baseline-events", "most events for the per-row baseline", "N", Defaults.BaselineEvents, v => Long("--baseline-events", v, 1));
    private readonly Option<int> _baselineSeconds = Valued("--baseline-seconds", "time budget of the per-row baseline, in seconds", "S", (int)Defaults.BaselineBudget.TotalSeconds, v => Int("--baseline-seconds", v, 1));
    private readonly Option<bool> _sweep = Flag("--sweep", "run several batch sizes, print a table and write a PNG chart");
    private readonly Option<int[]> _sweepSizes = Valued("--sweep-sizes", "batch sizes of the sweep, comma-separated", "LIST", [.. Defaults.SweepSizes], v => Sizes("--sweep-sizes", v));
    private readonly Option<int> _sweepSeconds = Valued("--sweep-seconds", "time budget per sweep point, in seconds: it then stops intake, drains and verifies", "S", (int)Defaults.SweepPointBudget.TotalSeconds, v => Int("--sweep-seconds", v, 1));
    private readonly Option<string?> _chart = Optional<string?>("--chart", "where the sweep chart goes (default: next to the database)", "PATH", v => NotEmpty("--chart", v));
    private readonly Option<bool> _plain = Flag("--plain", "plain progress lines even on a terminal");

    /// <summary>Initializes a new instance.</summary>
    public DemoCommandLine()
    {
        Command = new RootCommand(
            "Tinybatch event stream: events go through a batcher into SQLite (default) or PostgreSQL, one transaction per batch, " +
            "and are counted back from the database. Ctrl+C stops intake, drains and commits what was accepted, and prints the summary.")
        {
            _events, _input, _batchSize, _delay, _capacity, _producers, _concurrency, _postgres, _database, _sync, _table,
            _compare, _baselineEvents, _baselineSeconds, _sweep, _sweepSizes, _sweepSeconds, _chart, _plain,
        };

        // The demo has no version of its own to show; --version would otherwise start a run.
        Command.Options.Remove(Command.Options.OfType<VersionOption>().Single());
    }

    /// <summary>Gets the root command: every option, plus the built-in --help.</summary>
    public RootCommand Command { get; }

    /// <summary>Reads the options out of a parse without errors.</summary>
    /// <param name="result">The parse.</param>
    /// <returns>The options, before the checks across options.</returns>
    public DemoOptions Bind(ParseResult result) => new()
    {
        Events = result.GetValue(_events),
        Input = result.GetValue(_input),
        Settings = new RunSettings(
            result.GetValue(_batchSize),
            TimeSpan.FromMilliseconds(result.GetValue(_delay)),
            result.GetValue(_capacity),
            result.GetValue(_concurrency)),
        Producers = result.GetValue(_producers),
        Postgres = result.GetValue(_postgres),
        Database = result.GetValue(_database),
        Synchronous = result.GetValue(_sync),
        Table = result.GetValue(_table),
        Compare = result.GetValue(_compare),
        BaselineEvents = result.GetValue(_baselineEvents),
        BaselineBudget = TimeSpan.FromSeconds(result.GetValue(_baselineSeconds)),
        Sweep = result.GetValue(_sweep),
        SweepSizes = result.GetValue(_sweepSizes)!,
        SweepPointBudget = TimeSpan.FromSeconds(result.GetValue(_sweepSeconds)),
        Chart = result.GetValue(_chart),
        Plain = result.GetValue(_plain),
        Help = result.Action is System.CommandLine.Help.HelpAction,
    };

    private static Option<T> Valued<T>(string name, string description, string helpName, T defaultValue, Func<string, T> parse) =>
        new(name)
        {
            Description = description,
            HelpName = helpName,
            DefaultValueFactory = _ => defaultValue,
            Arity = ArgumentArity.ZeroOrOne,
            CustomParser = r => ParseOne(r, name, parse),
        };

    private static Option<T> Optional<T>(string name, string description, string helpName, Func<string, T> parse) =>
        new(name)
        {
            Description = description,
            HelpName = helpName,
            Arity = ArgumentArity.ZeroOrOne,
            CustomParser = r => ParseOne(r, name, parse),
        };

    private static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>Parses the option's one value; a missing or bad value becomes a parse error that names the option.</summary>
    private static T? ParseOne<T>(ArgumentResult result, string name, Func<string, T> parse)
    {
        if (result.Tokens.Count == 0)
        {
            result.AddError($"Option {name} needs a value.");
            return default;
        }

        try
        {
            return parse(result.Tokens[0].Value);
        }
        catch (ArgumentException ex)
        {
            // The message alone: not the " (Parameter 'name')" that ArgumentException appends.
            result.AddError(ex.ParamName is null ? ex.Message : ex.Message.Replace($" (Parameter '{ex.ParamName}')", "", StringComparison.Ordinal));
            return default;
        }
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
        return n <= int.MaxValue ? (int)n : throw new ArgumentException($"Option {name} is too large: '{value}'.");
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
