namespace Tinybatch.Tests.Docs;

/// <summary>The example on the README's first screen, compiled and run: a stream of clicks stored in batches.</summary>
public sealed class ReadmeFirstScreenTests
{
    private sealed record Click(string UserId, string Url);

    /// <summary>Stands in for the reader's database.</summary>
    private sealed class ClickStore
    {
        public List<Click[]> Inserts { get; } = [];

        public Task InsertAsync(Click[] clicks, CancellationToken cancellationToken)
        {
            lock (Inserts)
            {
                Inserts.Add(clicks);
            }

            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task FirstScreenExample_ThousandsOfClicks_EachStoredOnceInBatchesOfAtMost500()
    {
        var db = new ClickStore();
        IEnumerable<Click> clicks = Enumerable.Range(0, 1_200).Select(i => new Click($"user-{i % 7}", $"/page/{i}"));

        // <first-screen>
        await using var batcher = new Batcher<Click>(
            async (batch, ct) => await db.InsertAsync(batch.ToArray(), ct),   // one round trip per batch
            new BatcherOptions<Click> { MaxBatchSize = 500, MaxBatchDelay = TimeSpan.FromMilliseconds(50) });
        batcher.Start();

        foreach (Click click in clicks)
        {
            await batcher.AddAsync(click);   // waits only while the bounded buffer is full
        }

        await batcher.StopAsync();           // sends what is left, waits for it, and stops
        // </first-screen>

        Click[] stored = [.. db.Inserts.SelectMany(b => b)];
        Assert.Equal(clicks, stored);
        Assert.All(db.Inserts, b => Assert.InRange(b.Length, 1, 500));
        Assert.Equal(1_200, batcher.Counters.Succeeded);
    }
}
