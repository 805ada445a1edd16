using Npgsql;

namespace Tinybatch.EventStream.Durable;

/// <summary>PostgreSQL: one <c>INSERT ... SELECT FROM unnest(...) ON CONFLICT (id) DO NOTHING</c> per batch.</summary>
internal sealed class PostgresIdempotentSink(string connectionString, string table) : IIdempotentSink
{
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);

    public string Description => $"PostgreSQL (table {table}; INSERT ... ON CONFLICT (id) DO NOTHING; durable = committed)";

    public int MaxConcurrentWriters => 2;

    public async Task InitializeAsync(bool reset)
    {
        await using var command = _source.CreateCommand(
            (reset ? $"DROP TABLE IF EXISTS {table}; " : "")
            + $"CREATE TABLE IF NOT EXISTS {table} (id bigint PRIMARY KEY, kind text NOT NULL, created_at bigint NOT NULL, payload text NOT NULL);");
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask WriteAsync(IReadOnlyList<DurableEvent> events, CancellationToken cancellationToken)
    {
        var ids = new long[events.Count];
        var kinds = new string[events.Count];
        var created = new long[events.Count];
        var payloads = new string[events.Count];
        for (int i = 0; i < events.Count; i++)
        {
            (ids[i], kinds[i], created[i], payloads[i]) = (events[i].Id, events[i].Kind, events[i].CreatedUnixMs, events[i].Payload);
        }

        await using var command = _source.CreateCommand(
            $"INSERT INTO {table} (id, kind, created_at, payload) SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[]) ON CONFLICT (id) DO NOTHING;");
        command.Parameters.Add(new NpgsqlParameter { Value = ids });
        command.Parameters.Add(new NpgsqlParameter { Value = kinds });
        command.Parameters.Add(new NpgsqlParameter { Value = created });
        command.Parameters.Add(new NpgsqlParameter { Value = payloads });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<long> CountAsync(long fromId = long.MinValue, long toId = long.MaxValue)
    {
        await using var command = _source.CreateCommand($"SELECT COUNT(*) FROM {table} WHERE id BETWEEN $1 AND $2;");
        command.Parameters.Add(new NpgsqlParameter { Value = fromId });
        command.Parameters.Add(new NpgsqlParameter { Value = toId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task<HashSet<long>> ReadIdsAsync()
    {
        await using var command = _source.CreateCommand($"SELECT id FROM {table};");
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new HashSet<long>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();
}
