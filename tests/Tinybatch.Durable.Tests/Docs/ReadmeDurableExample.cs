using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.Data.Sqlite;

namespace Tinybatch.Durable.Tests;

public sealed record Order(long Id, string Item, decimal Price);

[JsonSerializable(typeof(Order))]
internal sealed partial class OrderJson : JsonSerializerContext;

/// <summary>The README's "Surviving a crash" code, compiled and run by <see cref="ReadmeDurableExampleTests"/>.</summary>
internal static class ReadmeDurableExample
{
    public static async Task RunAsync(string journalDirectory, SqliteConnection connection)
    {
        // <durable-setup>
        var options = new DurableBatcherOptions<Order>
        {
            Directory = journalDirectory,                 // kept across restarts: the journal lives here
            JsonTypeInfo = OrderJson.Default.Order,       // System.Text.Json source generation (or set Serializer)
            CommitMode = JournalCommitMode.Fsync,         // Flush: survives a killed process, not a power loss
            MaxBufferedWeight = 256L * 1024 * 1024,       // the journal's byte capacity...
            OverflowPolicy = OverflowPolicy.Wait,         // ...and what an add does when it is full
            MaxBatchSize = 500,
        };

        await using var batcher = new DurableBatcher<Order>(WriteOrdersAsync, options);
        batcher.Start();                                  // unfinished orders of the last run are replayed first
        await batcher.AddAsync(new Order(42, "book", 12.50m)); // returns once the order is committed to the journal
        // </durable-setup>

        // <durable-sink>
        // Idempotent: a replayed order has the same SequenceId, and the primary key turns its second insert into nothing.
        ValueTask WriteOrdersAsync(DurableBatch<Order> batch, CancellationToken cancellationToken)
        {
            using var transaction = connection.BeginTransaction();
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO orders (seq, id, item, price) VALUES ($seq, $id, $item, $price) ON CONFLICT (seq) DO NOTHING;";
            foreach (DurableJob<Order> order in batch)
            {
                insert.Parameters.Clear();
                insert.Parameters.AddWithValue("$seq", order.SequenceId);
                insert.Parameters.AddWithValue("$id", order.Job.Id);
                insert.Parameters.AddWithValue("$item", order.Job.Item);
                insert.Parameters.AddWithValue("$price", order.Job.Price.ToString(CultureInfo.InvariantCulture));
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
            return ValueTask.CompletedTask;
        }
        // </durable-sink>
    }
}
