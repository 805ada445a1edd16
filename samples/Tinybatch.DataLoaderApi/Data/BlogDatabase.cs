using Microsoft.Data.Sqlite;

namespace Tinybatch.DataLoaderApi.Data;

/// <summary>
/// The sample's SQLite database: a temporary file created and seeded at startup (deterministically: the same
/// authors and posts every run) and deleted at shutdown. Every command goes through <see cref="ExecuteReaderAsync"/>,
/// which counts it.
/// </summary>
public sealed partial class BlogDatabase : IDisposable
{
    /// <summary>The number of seeded authors.</summary>
    public const int AuthorCount = 50;

    /// <summary>The number of seeded posts.</summary>
    public const int PostCount = 500;

    private readonly SqlStatementCounter _counter;

    public BlogDatabase(SqlStatementCounter counter, ILogger<BlogDatabase> logger)
    {
        _counter = counter;
        FilePath = Path.Combine(Path.GetTempPath(), $"tinybatch-dataloader-{Guid.NewGuid():N}.db");
        ConnectionString = new SqliteConnectionStringBuilder { DataSource = FilePath, Pooling = true }.ToString();
        Seed();
        LogSeeded(logger, FilePath, AuthorCount, PostCount);
    }

    /// <summary>Gets the path of the database file.</summary>
    public string FilePath { get; }

    /// <summary>Gets the connection string.</summary>
    public string ConnectionString { get; }

    /// <summary>Runs a query on a pooled connection of its own, counts it, and maps every row.</summary>
    public async Task<List<T>> ExecuteReaderAsync<T>(string sql, Action<SqliteParameterCollection> bind, Func<SqliteDataReader, T> map, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        bind(command.Parameters);
        _counter.Increment();
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        File.Delete(FilePath);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created and seeded the sample database at {Path} ({Authors} authors, {Posts} posts).")]
    private static partial void LogSeeded(ILogger logger, string path, int authors, int posts);

    private void Seed()
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using SqliteTransaction transaction = connection.BeginTransaction();
        using (SqliteCommand create = connection.CreateCommand())
        {
            create.CommandText = """
                CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL);
                CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, author_id INTEGER NOT NULL REFERENCES authors(id));
                """;
            create.ExecuteNonQuery();
        }

        using (SqliteCommand insert = connection.CreateCommand())
        {
            insert.CommandText = "INSERT INTO authors (id, name, email) VALUES ($id, $name, $email)";
            SqliteParameter id = insert.Parameters.Add("$id", SqliteType.Integer);
            SqliteParameter name = insert.Parameters.Add("$name", SqliteType.Text);
            SqliteParameter email = insert.Parameters.Add("$email", SqliteType.Text);
            for (int i = 1; i <= AuthorCount; i++)
            {
                id.Value = i;
                name.Value = $"Author {i}";
                email.Value = $"author{i}@example.org";
                insert.ExecuteNonQuery();
            }
        }

        using (SqliteCommand insert = connection.CreateCommand())
        {
            insert.CommandText = "INSERT INTO posts (id, title, author_id) VALUES ($id, $title, $author)";
            SqliteParameter id = insert.Parameters.Add("$id", SqliteType.Integer);
            SqliteParameter title = insert.Parameters.Add("$title", SqliteType.Text);
            SqliteParameter author = insert.Parameters.Add("$author", SqliteType.Integer);
            for (int i = 1; i <= PostCount; i++)
            {
                id.Value = i;
                title.Value = $"Post {i}";

                // A fixed spread over the authors: each page of posts mentions many distinct authors, some twice.
                author.Value = ((i * 7) % AuthorCount) + 1;
                insert.ExecuteNonQuery();
            }
        }

        transaction.Commit();
    }
}
