using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit.Abstractions;

namespace Tinybatch.Durable.Tests;

/// <summary>
/// Kills the event-stream demo (<c>--durable</c>) with SIGKILL at random moments, again and again on the same journal
/// and database, then lets one last run replay what is left, and checks that every event whose add completed is in
/// the table exactly once, and that no event was dead-lettered. On SQLite (the demo's default store), and on
/// PostgreSQL where TINYBATCH_PG is set to a connection string (as .ci/run does; skipped with the reason otherwise).
/// </summary>
public sealed class CrashTests(ITestOutputHelper log)
{
    private const int Kills = 12;
    private const long IdsPerRun = 10_000_000;

    [Fact]
    public Task Demo_KilledAtRandomMomentsAndRestarted_StoresEveryAcceptedEventExactlyOnce() => KillAndRestartAsync(postgres: null);

    [PostgresFact]
    public Task Demo_OnPostgres_KilledAtRandomMomentsAndRestarted_StoresEveryAcceptedEventExactlyOnce() =>
        KillAndRestartAsync(PostgresFactAttribute.ConnectionString);

    private async Task KillAndRestartAsync(string? postgres)
    {
        using var dir = new TempDirectory();
        string table = "durable_crash_" + Guid.NewGuid().ToString("N")[..8];
        string database = Path.Combine(dir.Path, "events.db");
        string[] common = ["--durable", Path.Combine(dir.Path, "journal"), "--table", table,
            .. postgres is null ? new[] { "--db", database } : ["--postgres", postgres]];
        var accepted = new HashSet<long>();
        var dead = new List<string>();
        var random = new Random();
        int kills = 0;

        for (int run = 0; run < Kills; run++)
        {
            using var child = Child.Start([.. common, "--events", "100000000", "--first-id", (run * IdsPerRun + 1).ToString(CultureInfo.InvariantCulture),
                "--producers", "16", "--batch-size", "500", "--delay", "5", "--report-accepted"]);
            await child.FirstAccepted.WaitAsync(HangGuard.Timeout);
            await Task.Delay(random.Next(20, 600)); // a random moment: mid-write, mid-commit, mid-batch or idle
            child.Kill();
            kills++;
            accepted.UnionWith(child.Accepted);
            dead.AddRange(child.DeadLetters);
            log.WriteLine($"run {run}: {child.Accepted.Count} accepted");
            log.WriteLine(child.Output);
        }

        // One clean run that only replays what the journal still holds, then stops.
        using (var last = Child.Start([.. common, "--events", "0"]))
        {
            Assert.Equal(0, await last.WaitForExitAsync());
            dead.AddRange(last.DeadLetters);
            log.WriteLine(last.Output);
        }

        var (rows, distinct, stored) = postgres is null ? await ReadSqliteAsync(database, table) : await ReadPostgresAsync(postgres, table);
        long lost = accepted.Count(id => !stored.Contains(id));
        long duplicated = rows - distinct;
        string line = $"crash: kills={kills} accepted={accepted.Count} rows={rows} lost={lost} duplicated={duplicated}";
        log.WriteLine(line);
        ResultsFile.Append("durable.txt", $"{line} store={(postgres is null ? "sqlite" : "postgres")}");

        Assert.True(accepted.Count > 0, "the demo never reported an accepted event");

        // A dead letter is a delivered failure, not a silent loss, but this demo's sink is idempotent and retried: an
        // event that ends there (for example, charged an attempt by every kill while a slow sink drained a backlog) is
        // a defect in the demo's settings.
        Assert.True(dead.Count == 0, $"{dead.Count} events were dead-lettered, first: {string.Join(" | ", dead.Take(3))}");
        Assert.Equal(0, lost);
        Assert.Equal(0, duplicated);
    }

    private static async Task<(long Rows, long Distinct, HashSet<long> Ids)> ReadSqliteAsync(string path, string table)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        using var count = connection.CreateCommand();
        count.CommandText = $"SELECT COUNT(*), COUNT(DISTINCT id) FROM {table};";
        using var reader = await count.ExecuteReaderAsync();
        await reader.ReadAsync();
        var totals = (reader.GetInt64(0), reader.GetInt64(1));
        using var ids = connection.CreateCommand();
        ids.CommandText = $"SELECT id FROM {table};";
        var set = new HashSet<long>();
        using var idReader = await ids.ExecuteReaderAsync();
        while (await idReader.ReadAsync())
        {
            set.Add(idReader.GetInt64(0));
        }

        return (totals.Item1, totals.Item2, set);
    }

    private static async Task<(long Rows, long Distinct, HashSet<long> Ids)> ReadPostgresAsync(string connectionString, string table)
    {
        await using var source = NpgsqlDataSource.Create(connectionString);
        await using var count = source.CreateCommand($"SELECT COUNT(*), COUNT(DISTINCT id) FROM {table};");
        await using var reader = await count.ExecuteReaderAsync();
        await reader.ReadAsync();
        var totals = (reader.GetInt64(0), reader.GetInt64(1));
        await using var ids = source.CreateCommand($"SELECT id FROM {table};");
        var set = new HashSet<long>();
        await using var idReader = await ids.ExecuteReaderAsync();
        while (await idReader.ReadAsync())
        {
            set.Add(idReader.GetInt64(0));
        }

        await using var drop = source.CreateCommand($"DROP TABLE {table};");
        await drop.ExecuteNonQueryAsync();
        return (totals.Item1, totals.Item2, set);
    }

    /// <summary>The demo as a child process; collects the ids of the "ok ID" lines it prints once an add completed.</summary>
    private sealed class Child : IDisposable
    {
        private readonly Process _process;
        private readonly HashSet<long> _accepted = [];
        private readonly System.Text.StringBuilder _other = new();
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private Child(IEnumerable<string> args)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Tinybatch.EventStream.dll"));
            foreach (string arg in args)
            {
                start.ArgumentList.Add(arg);
            }

            _process = new Process { StartInfo = start };
            _process.OutputDataReceived += (_, e) => OnLine(e.Data);
            _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public Task FirstAccepted => _first.Task;

        public IReadOnlyCollection<long> Accepted
        {
            get
            {
                lock (_accepted)
                {
                    return [.. _accepted];
                }
            }
        }

        /// <summary>Gets the demo's "dead ID ..." lines: events that ended without reaching the table.</summary>
        public IReadOnlyList<string> DeadLetters
        {
            get
            {
                lock (_other)
                {
                    return [.. _other.ToString().Split('\n').Where(l => l.StartsWith("dead ", StringComparison.Ordinal))];
                }
            }
        }

        public string Output
        {
            get
            {
                lock (_other)
                {
                    return _other.ToString();
                }
            }
        }

        public static Child Start(IEnumerable<string> args) => new(args);

        /// <summary>SIGKILL: no handler, no flush, no finally runs in the child.</summary>
        public void Kill()
        {
            _process.Kill();
            _process.WaitForExit(); // also drains the redirected output already written
        }

        public async Task<int> WaitForExitAsync()
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
            _process.WaitForExit();
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }

            _process.Dispose();
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            if (line.StartsWith("ok ", StringComparison.Ordinal) && long.TryParse(line.AsSpan(3), NumberStyles.Integer, CultureInfo.InvariantCulture, out long id))
            {
                lock (_accepted)
                {
                    _accepted.Add(id);
                }

                _first.TrySetResult();
                return;
            }

            lock (_other)
            {
                _other.AppendLine(line);
            }

            if (line.StartsWith("error", StringComparison.Ordinal) || line.Contains("Unhandled exception", StringComparison.Ordinal))
            {
                _first.TrySetException(new InvalidOperationException($"The demo failed: {line}"));
            }
        }
    }
}
