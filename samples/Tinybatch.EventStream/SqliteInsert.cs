using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Tinybatch.EventStream;

/// <summary>
/// A prepared INSERT of <c>rows</c> events, bound and stepped through SQLite's C API (SQLitePCLRaw, which
/// Microsoft.Data.Sqlite runs on). It runs on the connection's own handle, so it joins the connection's transaction.
/// </summary>
/// <remarks>
/// Per row, Microsoft.Data.Sqlite's command layer costs more than SQLite's insert itself (boxed parameter values, a
/// UTF-8 copy per string, checks per execution). The batched path and the per-row baseline both use this class, so
/// <c>--compare</c> measures transactions, not two different drivers.
/// </remarks>
internal sealed class SqliteInsert : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private byte[] _utf8 = new byte[4096];

    /// <summary>Prepares the statement.</summary>
    /// <param name="connection">An open connection.</param>
    /// <param name="table">The table (already validated).</param>
    /// <param name="rows">Rows per execution.</param>
    public SqliteInsert(SqliteConnection connection, string table, int rows)
    {
        _db = connection.Handle!;
        Rows = rows;
        var sql = new StringBuilder($"INSERT INTO {table} (id, kind, created_at, payload) VALUES ");
        for (int row = 0; row < rows; row++)
        {
            sql.Append(row == 0 ? "(?,?,?,?)" : ",(?,?,?,?)");
        }

        Check(raw.sqlite3_prepare_v2(_db, sql.ToString(), out _statement));
    }

    /// <summary>Gets the rows each execution inserts.</summary>
    public int Rows { get; }

    /// <summary>Binds one event to row <paramref name="row"/> of the statement.</summary>
    /// <param name="row">The row, from 0.</param>
    /// <param name="evt">The event.</param>
    public void Bind(int row, in StreamEvent evt)
    {
        int p = (row * 4) + 1;
        Check(raw.sqlite3_bind_int64(_statement, p, evt.Id));
        BindText(p + 1, evt.Kind);
        Check(raw.sqlite3_bind_int64(_statement, p + 2, evt.CreatedUnixMs));
        BindUtf8(p + 3, evt.Payload);
    }

    /// <summary>Runs the statement with the bound rows, then resets it for the next rows.</summary>
    public void Execute()
    {
        int rc = raw.sqlite3_step(_statement);
        raw.sqlite3_reset(_statement);
        if (rc != raw.SQLITE_DONE)
        {
            Check(rc);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _statement.Dispose();

    private void BindUtf8(int index, in EventPayload payload)
    {
        // Written as UTF-8 into a reused buffer; SQLite copies the bytes (SQLITE_TRANSIENT).
        int max = payload.MaxUtf8Length;
        if (max > _utf8.Length)
        {
            _utf8 = new byte[Math.Max(max, _utf8.Length * 2)];
        }

        int length = payload.WriteUtf8(_utf8);
        Check(raw.sqlite3_bind_text(_statement, index, _utf8.AsSpan(0, length)));
    }

    private void BindText(int index, string value)
    {
        // Encode into a reused buffer; SQLite copies the bytes (SQLITE_TRANSIENT), so the buffer is free again at once.
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max > _utf8.Length)
        {
            _utf8 = new byte[Math.Max(max, _utf8.Length * 2)];
        }

        int length = Encoding.UTF8.GetBytes(value, _utf8);
        Check(raw.sqlite3_bind_text(_statement, index, _utf8.AsSpan(0, length)));
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK && rc != raw.SQLITE_DONE && rc != raw.SQLITE_ROW)
        {
            throw new SqliteException(
                string.Create(CultureInfo.InvariantCulture, $"SQLite error {rc}: {raw.sqlite3_errmsg(_db).utf8_to_string()}"),
                rc);
        }
    }
}
