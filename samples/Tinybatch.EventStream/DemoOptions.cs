namespace Tinybatch.EventStream;

/// <summary>The demo's command line, parsed (see <see cref="DemoOptionsParser"/>).</summary>
internal sealed record DemoOptions
{
    /// <summary>The default event count of a run.</summary>
    public const long DefaultEvents = 1_000_000;

    /// <summary>The default event count of each point of a sweep.</summary>
    public const long DefaultSweepEvents = 200_000;

    /// <summary>Gets the events to generate, or <see langword="null"/> for the default (run or sweep).</summary>
    public long? Events { get; init; }

    /// <summary>Gets the batcher's settings.</summary>
    public RunSettings Settings { get; init; } = RunSettings.Default;

    /// <summary>Gets the concurrent producers of generated events.</summary>
    public int Producers { get; init; } = 2;

    /// <summary>Gets the PostgreSQL connection string; <see langword="null"/> writes to SQLite.</summary>
    public string? Postgres { get; init; }

    /// <summary>Gets the SQLite database file; <see langword="null"/> for a new file in the temp folder.</summary>
    public string? Database { get; init; }

    /// <summary>Gets SQLite's synchronous setting.</summary>
    public SqliteSynchronous Synchronous { get; init; } = SqliteSynchronous.Full;

    /// <summary>Gets the table name.</summary>
    public string? Table { get; init; }

    /// <summary>Gets the NDJSON input: a file path, "-" for stdin, or <see langword="null"/> to generate events.</summary>
    public string? Input { get; init; }

    /// <summary>Gets a value indicating whether to compare with one INSERT per event.</summary>
    public bool Compare { get; init; }

    /// <summary>Gets the most events the per-row baseline writes.</summary>
    public long BaselineEvents { get; init; } = 20_000;

    /// <summary>Gets the per-row baseline's time budget: it stops early, and says so, past this.</summary>
    public TimeSpan BaselineBudget { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets a value indicating whether to sweep batch sizes.</summary>
    public bool Sweep { get; init; }

    /// <summary>Gets the batch sizes of a sweep.</summary>
    public IReadOnlyList<int> SweepSizes { get; init; } = [1, 10, 100, 1000, 10_000];

    /// <summary>Gets the time budget of each sweep point: past it, the point stops intake, drains and is verified.</summary>
    public TimeSpan SweepPointBudget { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Gets the sweep chart's path; <see langword="null"/> for one next to the database.</summary>
    public string? Chart { get; init; }

    /// <summary>Gets a value indicating whether to print plain progress lines even on a terminal.</summary>
    public bool Plain { get; init; }

    /// <summary>Gets a value indicating whether to print the usage and exit.</summary>
    public bool Help { get; init; }
}
