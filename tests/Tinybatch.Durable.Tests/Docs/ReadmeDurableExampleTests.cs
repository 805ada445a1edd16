using Microsoft.Data.Sqlite;

namespace Tinybatch.Durable.Tests;

public sealed class ReadmeDurableExampleTests
{
    [Fact]
    public async Task ReadmeExample_RunTwice_StoresEachOrderOnceByItsSequenceId()
    {
        using var dir = new TempDirectory();
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(dir.Path, "orders.db")};Pooling=False");
        await connection.OpenAsync();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE orders (seq INTEGER PRIMARY KEY, id INTEGER NOT NULL, item TEXT NOT NULL, price TEXT NOT NULL);";
            create.ExecuteNonQuery();
        }

        string journal = Path.Combine(dir.Path, "journal");
        await ReadmeDurableExample.RunAsync(journal, connection);
        await ReadmeDurableExample.RunAsync(journal, connection);

        using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*), COUNT(DISTINCT seq) FROM orders;";
        using var reader = await count.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(2, reader.GetInt64(0)); // two adds, two sequence ids
        Assert.Equal(2, reader.GetInt64(1));
    }
}
