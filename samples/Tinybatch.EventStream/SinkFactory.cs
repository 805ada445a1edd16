namespace Tinybatch.EventStream;

/// <summary>
/// Creates the sinks of a demo run: the batched run's, the per-row baseline's and the sweep's, each with its own table
/// (PostgreSQL) or database file (SQLite).
/// </summary>
internal sealed class SinkFactory
{
    private readonly string? _postgres;
    private readonly string? _database;
    private readonly string? _table;
    private readonly int _concurrency;
    private readonly SqliteSynchronous _synchronous;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="options">The demo's options.</param>
    public SinkFactory(DemoOptions options)
    {
        _postgres = options.Postgres;
        _database = options.Database;
        _table = options.Table;
        _concurrency = options.Settings.Concurrency;
        _synchronous = options.Synchronous;
    }

    /// <summary>Gets the default folder of the SQLite files: one fixed folder under temp, reused by each run.</summary>
    public static string DefaultFolder => Path.Combine(Path.GetTempPath(), "tinybatch-eventstream");

    /// <summary>Gets a value indicating whether the sinks are PostgreSQL.</summary>
    public bool IsPostgres => _postgres is not null;

    /// <summary>Gets the name of the store, for titles.</summary>
    public string StoreName => IsPostgres ? "PostgreSQL" : "SQLite";

    /// <summary>Gets the folder where files of the run (database, chart) go.</summary>
    public string Folder => _database is null ? DefaultFolder : Path.GetDirectoryName(Path.GetFullPath(_database))!;

    /// <summary>Creates a sink.</summary>
    /// <param name="variant">Empty for the batched run; otherwise a suffix such as "per_row" or "batch_100".</param>
    /// <returns>The sink.</returns>
    public IEventSink Create(string variant = "")
    {
        string suffix = variant.Length == 0 ? "" : "_" + variant;
        if (_postgres is not null)
        {
            return new PostgresSink(_postgres, (_table ?? "tinybatch_events") + suffix, _concurrency);
        }

        string path = _database is null
            ? Path.Combine(DefaultFolder, "events" + suffix + ".db")
            : Path.Combine(Folder, Path.GetFileNameWithoutExtension(_database) + suffix + Path.GetExtension(_database));

        // The default files are the demo's own: start each run from an empty file rather than a grown one.
        if (_database is null)
        {
            DeleteDatabase(path);
        }

        return new SqliteSink(path, _table ?? "events", _synchronous);
    }

    /// <summary>Deletes a SQLite database file and its WAL and shared-memory files.</summary>
    /// <param name="path">The database file.</param>
    public static void DeleteDatabase(string path)
    {
        if (!Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(path))))
        {
            return;
        }

        foreach (string file in new[] { path, path + "-wal", path + "-shm" })
        {
            File.Delete(file);
        }
    }
}
