using Tinybatch.DataLoaderApi.Data;

namespace Tinybatch.DataLoaderApi;

/// <summary>The same answer computed two ways: through the request's data loader, and naively (N+1 queries).</summary>
public static class PostEndpoints
{
    /// <summary>The number of posts returned when the request does not say.</summary>
    public const int DefaultTake = 100;

    /// <summary>Maps the endpoints.</summary>
    public static void MapPostEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/posts-with-authors/loader", (int? take, BlogRepository repository, DataLoader<int, Author> authors, CancellationToken ct) =>
            WithLoaderAsync(repository, authors, take ?? DefaultTake, ct));
        app.MapGet("/posts-with-authors/naive", (int? take, BlogRepository repository, CancellationToken ct) =>
            NaiveAsync(repository, take ?? DefaultTake, ct));
        app.MapGet("/authors", async (string ids, DataLoader<int, Author> authors, CancellationToken ct) =>
            await authors.LoadManyAsync(ids.Split(',').Select(int.Parse), ct));
    }

    /// <summary>
    /// Resolves each post's author as a GraphQL resolver would, one LoadAsync per post: the loads are issued in one
    /// burst, so the loader turns them into a single <c>WHERE id IN (...)</c> query of the distinct author ids.
    /// </summary>
    public static async Task<PostWithAuthor[]> WithLoaderAsync(BlogRepository repository, DataLoader<int, Author> authors, int take, CancellationToken ct)
    {
        List<Post> posts = await repository.GetPostsAsync(take, ct);
        return await Task.WhenAll(posts.Select(async post =>
            new PostWithAuthor(post.Id, post.Title, await authors.LoadAsync(post.AuthorId, ct))));
    }

    /// <summary>Reads each post's author with its own query: 1 + N statements.</summary>
    public static async Task<PostWithAuthor[]> NaiveAsync(BlogRepository repository, int take, CancellationToken ct)
    {
        List<Post> posts = await repository.GetPostsAsync(take, ct);
        var result = new PostWithAuthor[posts.Count];
        for (int i = 0; i < posts.Count; i++)
        {
            Author author = await repository.GetAuthorAsync(posts[i].AuthorId, ct)
                ?? throw new KeyNotFoundException($"Author {posts[i].AuthorId} of post {posts[i].Id} does not exist.");
            result[i] = new PostWithAuthor(posts[i].Id, posts[i].Title, author);
        }

        return result;
    }
}
