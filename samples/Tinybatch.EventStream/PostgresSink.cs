using System.Buffers;
using System.Runtime.CompilerServices;
using Npgsql;
using NpgsqlTypes;

namespace Tinybatch.EventStream;

/// <summary>
/// Writes events into PostgreSQL with binary COPY (<see cref="NpgsqlConnection.BeginBinaryImportAsync"/>), one
/// transaction per batch. "Durable" means committed with the server's defaults (fsync on, synchronous_commit on).
/// </summary>
internal sealed class PostgresSink : IEventSink
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _table;
    private readonly string _server;
    private NpgsqlConnection? _perRowConnection;
    private NpgsqlCommand? _perRowInsert;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="table">The table name.</param>
    /// <param name="maxConcurrentWriters">How many batches may be written at once, each on its own connection.</param>
    public PostgresSink(string connectionString, string table = "tinybatch_events", int maxConcurrentWriters = 2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxConcurrentWriters);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        _server = $"{builder.Host}:{builder.Port}/{builder.Database}";
        _dataSource = NpgsqlDataSource.Create(builder);
        _table = TableName.Validate(table);
        MaxConcurrentWriters = maxConcurrentWriters;
    }

    /// <inheritdoc/>
    public string Description => $"PostgreSQL {_server} (table {_table}; durable = committed)";

    /// <inheritdoc/>
    public string BatchMethod => "binary COPY, one transaction per batch";

    /// <inheritdoc/>
    public int MaxConcurrentWriters { get; }

    /// <inheritdoc/>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            $"DROP TABLE IF EXISTS {_table}; CREATE TABLE {_table} (id bigint PRIMARY KEY, kind text NOT NULL, created_at timestamptz NOT NULL, payload text NOT NULL);",
            connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask WriteBatchAsync(IReadOnlyList<StreamEvent> events, CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (NpgsqlBinaryImporter import = await connection.BeginBinaryImportAsync(
            $"COPY {_table} (id, kind, created_at, payload) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            // The rows are written with the synchronous API: it only blocks when its buffer goes out to the server,
            // and costs far less per value than an await each. It copies each value into its own buffer as it is
            // written, so one payload buffer serves the whole batch: text goes to the server as UTF-8 bytes.
            byte[] utf8 = ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                for (int i = 0; i < events.Count; i++)
                {
                    StreamEvent evt = events[i];
                    if (evt.Payload.MaxUtf8Length > utf8.Length)
                    {
                        ArrayPool<byte>.Shared.Return(utf8);
                        utf8 = ArrayPool<byte>.Shared.Rent(evt.Payload.MaxUtf8Length);
                    }

                    import.StartRow();
                    import.Write(evt.Id, NpgsqlDbType.Bigint);
                    import.Write(evt.Kind, NpgsqlDbType.Text);
                    import.Write(DateTimeOffset.FromUnixTimeMilliseconds(evt.CreatedUnixMs).UtcDateTime, NpgsqlDbType.TimestampTz);
                    import.Write(new ReadOnlyMemory<byte>(utf8, 0, evt.Payload.WriteUtf8(utf8)), NpgsqlDbType.Text);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(utf8);
            }

            await import.CompleteAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask WriteOneAsync(StreamEvent evt, CancellationToken cancellationToken)
    {
        // One kept connection and a prepared INSERT, autocommit: the fastest honest one-row-per-insert loop.
        if (_perRowInsert is null)
        {
            _perRowConnection = await _dataSource.OpenConnectionAsync(cancellationToken);
            _perRowInsert = new NpgsqlCommand($"INSERT INTO {_table} (id, kind, created_at, payload) VALUES ($1, $2, $3, $4);", _perRowConnection);
            _perRowInsert.Parameters.Add(new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint });
            _perRowInsert.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text });
            _perRowInsert.Parameters.Add(new NpgsqlParameter<DateTime> { NpgsqlDbType = NpgsqlDbType.TimestampTz });
            _perRowInsert.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text });
            await _perRowInsert.PrepareAsync(cancellationToken);
        }

        ((NpgsqlParameter<long>)_perRowInsert.Parameters[0]).TypedValue = evt.Id;
        ((NpgsqlParameter<string>)_perRowInsert.Parameters[1]).TypedValue = evt.Kind;
        ((NpgsqlParameter<DateTime>)_perRowInsert.Parameters[2]).TypedValue = DateTimeOffset.FromUnixTimeMilliseconds(evt.CreatedUnixMs).UtcDateTime;
        ((NpgsqlParameter<string>)_perRowInsert.Parameters[3]).TypedValue = evt.Payload.ToString();
        await _perRowInsert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        await using NpgsqlCommand count = _dataSource.CreateCommand($"SELECT COUNT(*) FROM {_table};");
        return (long)(await count.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<long> ReadIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using NpgsqlCommand select = _dataSource.CreateCommand($"SELECT id FROM {_table} ORDER BY id;");
        await using NpgsqlDataReader reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return reader.GetInt64(0);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_perRowInsert is not null)
        {
            await _perRowInsert.DisposeAsync();
        }

        if (_perRowConnection is not null)
        {
            await _perRowConnection.DisposeAsync();
        }

        await _dataSource.DisposeAsync();
    }
}
