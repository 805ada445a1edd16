namespace Tinybatch.DataLoader.Tests;

/// <summary>The example of docs/readme/dataloader.md, verbatim between the markers, so that the README stays honest.</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public async Task ReadmeExample_LoadsIssuedTogether_ShareAFetchAndCachedKeysAreNotFetchedAgain()
    {
        var db = new FakeUserStore();

        // README example start
        await using var users = new DataLoader<int, User>(async (ids, ct) =>
        {
            // One query for the whole batch, e.g. SELECT ... WHERE id IN (...)
            List<User> rows = await db.GetUsersAsync(ids, ct);
            return rows.ToDictionary(u => u.Id);
        });

        // Loads issued together (here, one per post, as GraphQL resolvers do) share one fetch of the distinct ids.
        User[] authors = await Task.WhenAll(users.LoadAsync(1), users.LoadAsync(2), users.LoadAsync(1));
        // README example pause
        int queriesBefore = db.Queries;
        // README example resume
        IReadOnlyList<User> many = await users.LoadManyAsync([2, 1]); // from the cache: no new query
        // README example end

        Assert.Equal([1, 2, 1], authors.Select(u => u.Id));
        Assert.Equal([2, 1], many.Select(u => u.Id));
        // Real clock: one query, unless this thread was preempted for longer than MaxBatchDelay between two loads
        // (the fake-clock tests pin the batching down exactly).
        Assert.InRange(queriesBefore, 1, 2);
        Assert.Equal(queriesBefore, db.Queries);
    }

    public sealed record User(int Id, string Name);

    private sealed class FakeUserStore
    {
        private int _queries;

        public int Queries => _queries;

        public Task<List<User>> GetUsersAsync(IReadOnlyList<int> ids, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _queries);
            return Task.FromResult(ids.Select(id => new User(id, "user " + id)).ToList());
        }
    }
}
