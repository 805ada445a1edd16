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

    [Fact]
    public async Task ReadmeGroupedExample_EachUserGetsTheirOwnOrdersAndNoneIsEmpty()
    {
        var db = new FakeUserStore();

        // <grouped-dataloader>
        await using var ordersByUser = new GroupedDataLoader<int, Order>(async (userIds, ct) =>
        {
            // One query for every user of the batch: SELECT ... WHERE user_id IN (...)
            List<Order> rows = await db.GetOrdersAsync(userIds, ct);
            return rows.ToLookup(o => o.UserId);
        });

        IReadOnlyList<Order>[] orders = await Task.WhenAll(ordersByUser.LoadAsync(1), ordersByUser.LoadAsync(2), ordersByUser.LoadAsync(3));
        // orders[2] is empty: user 3 has no orders
        // </grouped-dataloader>

        Assert.Equal([1, 1], orders[0].Select(o => o.UserId));
        Assert.Equal([2, 2, 2], orders[1].Select(o => o.UserId));
        Assert.Empty(orders[2]);
        Assert.InRange(db.Queries, 1, 2);
    }

    public sealed record User(int Id, string Name);

    public sealed record Order(int Id, int UserId);

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

        /// <summary>User 1 has 2 orders, user 2 has 3, others none.</summary>
        public Task<List<Order>> GetOrdersAsync(IReadOnlyList<int> userIds, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _queries);
            return Task.FromResult(userIds.Where(u => u is 1 or 2).SelectMany(u => Enumerable.Range(u * 10, u + 1).Select(id => new Order(id, u))).ToList());
        }
    }
}
