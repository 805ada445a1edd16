namespace Tinybatch.DataLoader.Tests;

/// <summary>The README's Dataloader example, verbatim between the region markers (a test in Tinybatch.Tests checks it).</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public async Task ReadmeExample_LoadsIssuedTogether_ShareAFetchAndCachedKeysAreNotFetchedAgain()
    {
        var db = new FakeUserStore();

        // <dataloader>
        await using var users = new DataLoader<int, User>(async (ids, ct) =>
        {
            // One query for the whole batch, e.g. SELECT ... WHERE id IN (...)
            List<User> rows = await db.GetUsersAsync(ids, ct);
            return rows.ToDictionary(u => u.Id);
        });

        // Loads issued together (here, one per post, as GraphQL resolvers do) share one fetch of the distinct ids.
        User[] authors = await Task.WhenAll(users.LoadAsync(1), users.LoadAsync(2), users.LoadAsync(1));
        IReadOnlyList<User> many = await users.LoadManyAsync([2, 1]); // from the cache: no new query
        // </dataloader>

        Assert.Equal([1, 2, 1], authors.Select(u => u.Id));
        Assert.Equal([2, 1], many.Select(u => u.Id));

        // Real clock: one query, unless this thread was preempted for longer than MaxBatchDelay between two loads (the
        // fake-clock tests pin the batching down exactly). Either way each id was fetched once: LoadManyAsync hit the cache.
        Assert.InRange(db.Queries, 1, 2);
        Assert.Equal(2, db.KeysFetched);
    }

    public sealed record User(int Id, string Name);

    private sealed class FakeUserStore
    {
        private int _queries;
        private int _keysFetched;

        public int Queries => _queries;

        public int KeysFetched => _keysFetched;

        public Task<List<User>> GetUsersAsync(IReadOnlyList<int> ids, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _queries);
            Interlocked.Add(ref _keysFetched, ids.Count);
            return Task.FromResult(ids.Select(id => new User(id, "user " + id)).ToList());
        }
    }
}
