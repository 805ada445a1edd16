using System.Globalization;
using Tinybatch.Durable;

namespace Tinybatch.EventStream.Durable;

/// <summary>The options of the demo's durable mode (<c>--durable DIR</c>).</summary>
internal sealed record DurableDemoOptions
{
    public const string Usage = """
        Durable intake: events are journalled in DIR before each add completes; the sink writes idempotently by event id.

          --durable DIR         the journal's directory (kept across runs: a restart replays what was not stored)
          --db PATH             SQLite database (default DIR/events.db); --postgres CONNSTR for PostgreSQL
          --table NAME          table name (default durable_events)
          --events N            events to produce (default 200,000); 0 only replays what the journal holds
          --first-id N          id of the first event (default 1)
          --producers N         concurrent producers (default 4)
          --batch-size N        MaxBatchSize (default 1000)
          --delay MS            MaxBatchDelay in milliseconds (default 20)
          --commit fsync|flush  journal commit mode (default fsync)
          --report-accepted     print "ok ID" once each event's add completed (the crash test reads these)
          --compare             in-memory vs durable (fsync, flush) vs a naive fsync-per-event journal, same run
        """;

    public required string Directory { get; init; }

    public string? Database { get; init; }

    public string? Postgres { get; init; }

    public string Table { get; init; } = "durable_events";

    public long Events { get; init; } = 200_000;

    public long FirstId { get; init; } = 1;

    public int Producers { get; init; } = 4;

    public int BatchSize { get; init; } = 1000;

    public TimeSpan Delay { get; init; } = TimeSpan.FromMilliseconds(20);

    public JournalCommitMode Commit { get; init; } = JournalCommitMode.Fsync;

    public bool ReportAccepted { get; init; }

    public bool Compare { get; init; }

    public static bool IsRequested(IReadOnlyList<string> args) => args.Contains("--durable");

    public static DurableDemoOptions Parse(IReadOnlyList<string> args)
    {
        var o = new DurableDemoOptions { Directory = "" };
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"Option {name} needs a value.");
            long Number(long min) => long.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) && v >= min
                ? v
                : throw new ArgumentException($"Option {name} needs a whole number of at least {min}.");
            o = name switch
            {
                "--durable" => o with { Directory = Value() },
                "--db" => o with { Database = Value() },
                "--postgres" => o with { Postgres = Value() },
                "--table" => o with { Table = TableName(Value()) },
                "--events" => o with { Events = Number(0) },
                "--first-id" => o with { FirstId = Number(1) },
                "--producers" => o with { Producers = (int)Math.Min(Number(1), 4096) },
                "--batch-size" => o with { BatchSize = (int)Math.Min(Number(1), 100_000) },
                "--delay" => o with { Delay = TimeSpan.FromMilliseconds(Math.Min(Number(0), 60_000)) },
                "--commit" => o with
                {
                    Commit = Value() switch
                    {
                        "fsync" => JournalCommitMode.Fsync,
                        "flush" => JournalCommitMode.Flush,
                        var other => throw new ArgumentException($"Option --commit takes fsync or flush, not '{other}'."),
                    },
                },
                "--report-accepted" => o with { ReportAccepted = true },
                "--compare" => o with { Compare = true },
                "--plain" => o,
                _ => throw new ArgumentException($"Unknown option {name} in durable mode.\n{Usage}"),
            };
        }

        return string.IsNullOrWhiteSpace(o.Directory) ? throw new ArgumentException("--durable needs a directory.") : o;
    }

    public IIdempotentSink CreateSink(string? table = null) =>
        Postgres is not null
            ? new PostgresIdempotentSink(Postgres, table ?? Table)
            : new SqliteIdempotentSink(Database ?? Path.Combine(Directory, "events.db"), table ?? Table);

    private static string TableName(string name) =>
        name.Length is > 0 and <= 63 && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_') && !char.IsAsciiDigit(name[0])
            ? name
            : throw new ArgumentException($"--table takes a lower-case name of letters, digits and underscores, not '{name}'.");
}
