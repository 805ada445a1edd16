using Microsoft.Data.Sqlite;

namespace Tinybatch.EventStream.Durable;

/// <summary>SQLite, synchronous=FULL (a commit is fsynced), <c>INSERT OR IGNORE</c> on the primary key.</summary>
internal sealed class SqliteIdempotentSink(string path, string table) : IIdempotentSink
{
    private readonly SqliteConnection _connection = new(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
    private SqliteCommand? _insert;

    public string Description => $"SQLite {path} (table {table}; INSERT OR IGNORE on id; durable = committed and fsynced)";

    public int MaxConcurrentWriters => 1;

    public async Task InitializeAsync(bool reset)
    {
        await _connection.OpenAsync();
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;");
        if (reset)
        {
            Execute($"DROP TABLE IF EXISTS {table};");
        }

        Execute($"CREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, created_at INTEGER NOT NULL, payload TEXT NOT NULL);");
        _insert = _connection.CreateCommand();
        _insert.CommandText = $"INSERT OR IGNORE INTO {table} (id, kind, created_at, payload) VALUES ($id, $kind, $created, $payload);";
        _insert.Parameters.Add("$id", SqliteType.Integer);
        _insert.Parameters.Add("$kind", SqliteType.Text);
        _insert.Parameters.Add("$created", SqliteType.Integer);
        _insert.Parameters.Add("$payload", SqliteType.Text);
        _insert.Prepare();
    }

    public ValueTask WriteAsync(IReadOnlyList<DurableEvent> events, CancellationToken cancellationToken)
    {
        var insert = _insert ?? throw new InvalidOperationException("The sink is not initialized.");
        using var transaction = _connection.BeginTransaction();
        insert.Transaction = transaction;
        foreach (var e in events)
        {
            insert.Parameters[0].Value = e.Id;
            insert.Parameters[1].Value = e.Kind;
            insert.Parameters[2].Value = e.CreatedUnixMs;
            insert.Parameters[3].Value = e.Payload;
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
        return ValueTask.CompletedTask;
    }

    public async Task<long> CountAsync(long fromId = long.MinValue, long toId = long.MaxValue)
    {
        using var count = _connection.CreateCommand();
        count.CommandText = $"SELECT COUNT(*) FROM {table} WHERE id BETWEEN $from AND $to;";
        count.Parameters.AddWithValue("$from", fromId);
        count.Parameters.AddWithValue("$to", toId);
        return Convert.ToInt64(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<HashSet<long>> ReadIdsAsync()
    {
        using var read = _connection.CreateCommand();
        read.CommandText = $"SELECT id FROM {table};";
        var ids = new HashSet<long>();
        using var reader = await read.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    public ValueTask DisposeAsync()
    {
        _insert?.Dispose();
        return _connection.DisposeAsync();
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
