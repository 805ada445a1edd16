using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Tinybatch.EventStream;

/// <summary>
/// Writes events into a SQLite database file: WAL journal, one transaction per batch, prepared INSERTs reused for every
/// row of it (one that inserts <see cref="RowsPerStatement"/> rows at a time, then a one-row INSERT for the rest),
/// run through SQLite's C API (see <see cref="SqliteInsert"/>).
/// "Durable" here means committed. With synchronous=NORMAL (the default) a commit survives a crash of the process, and
/// a power loss can lose only the last commits, never corrupt the file; with synchronous=FULL every commit is fsynced.
/// </summary>
internal sealed class SqliteSink : IEventSink
{
    /// <summary>Rows per multi-row INSERT: fewer statement executions (step and reset) per batch.</summary>
    public const int RowsPerStatement = 50;

    private readonly string _path;
    private readonly string _table;
    private readonly SqliteSynchronous _synchronous;
    private readonly SqliteConnection _connection;
    private SqliteInsert? _insert;
    private SqliteInsert? _insertMany;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="databasePath">The database file; it and its folder are created if missing.</param>
    /// <param name="table">The table name.</param>
    /// <param name="synchronous">SQLite's synchronous setting: when a commit is fsynced.</param>
    public SqliteSink(string databasePath, string table = "events", SqliteSynchronous synchronous = SqliteSynchronous.Normal)
    {
        _path = Path.GetFullPath(databasePath);
        _table = TableName.Validate(table);
        _synchronous = synchronous;
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _path, Pooling = false }.ToString());
    }

    /// <summary>Gets the full path of the database file.</summary>
    public string DatabasePath => _path;

    /// <inheritdoc/>
    public string Description =>
        $"SQLite {_path} (table {_table}; WAL, synchronous={SynchronousName}: durable = committed{(_synchronous == SqliteSynchronous.Full ? " and fsynced" : "")})";

    /// <inheritdoc/>
    public string BatchMethod => $"prepared multi-row INSERTs ({RowsPerStatement} rows each), one transaction per batch";

    /// <inheritdoc/>
    public int MaxConcurrentWriters => 1;

    private string SynchronousName => _synchronous == SqliteSynchronous.Full ? "FULL" : "NORMAL";

    /// <inheritdoc/>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _connection.OpenAsync(cancellationToken);
        Execute("PRAGMA journal_mode=WAL;");
        Execute($"PRAGMA synchronous={SynchronousName};");
        Execute($"DROP TABLE IF EXISTS {_table};");
        Execute($"CREATE TABLE {_table} (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, created_at INTEGER NOT NULL, payload TEXT NOT NULL);");
        _insert = new SqliteInsert(_connection, _table, 1);
        _insertMany = new SqliteInsert(_connection, _table, RowsPerStatement);
    }

    /// <inheritdoc/>
    public ValueTask WriteBatchAsync(IReadOnlyList<StreamEvent> events, CancellationToken cancellationToken)
    {
        SqliteInsert insert = _insert ?? throw NotInitialized();
        SqliteInsert insertMany = _insertMany!;
        using SqliteTransaction transaction = _connection.BeginTransaction();
        int i = 0;
        for (; i + RowsPerStatement <= events.Count; i += RowsPerStatement)
        {
            for (int row = 0; row < RowsPerStatement; row++)
            {
                insertMany.Bind(row, events[i + row]);
            }

            insertMany.Execute();
        }

        for (; i < events.Count; i++)
        {
            insert.Bind(0, events[i]);
            insert.Execute();
        }

        // Disposing the transaction without a commit rolls the whole batch back.
        cancellationToken.ThrowIfCancellationRequested();
        transaction.Commit();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask WriteOneAsync(StreamEvent evt, CancellationToken cancellationToken)
    {
        // No explicit transaction: SQLite commits each statement on its own (autocommit).
        SqliteInsert insert = _insert ?? throw NotInitialized();
        insert.Bind(0, evt);
        insert.Execute();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        await using SqliteCommand count = _connection.CreateCommand();
        count.CommandText = $"SELECT COUNT(*) FROM {_table};";
        return Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<long> ReadIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using SqliteCommand select = _connection.CreateCommand();
        select.CommandText = $"SELECT id FROM {_table} ORDER BY id;";
        await using SqliteDataReader reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return reader.GetInt64(0);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _insert?.Dispose();
        _insertMany?.Dispose();
        await _connection.DisposeAsync();
    }

    private static InvalidOperationException NotInitialized() => new("The SQLite sink is not initialized: call InitializeAsync first.");

    private void Execute(string sql)
    {
        using SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
