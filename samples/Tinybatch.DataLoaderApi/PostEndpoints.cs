using Tinybatch.DataLoaderApi.Data;

namespace Tinybatch.DataLoaderApi;

/// <summary>The same answer computed two ways: through the request's data loader, and naively (N+1 queries).</summary>
public static class PostEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    public static void MapPostEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/posts-with-authors/loader", async (string? take, BlogRepository repository, IDataLoader<int, Author> authors, CancellationToken ct) =>
            QueryParameters.TryParseTake(take, out int count, out IResult? problem)
                ? TypedResults.Ok(await WithLoaderAsync(repository, authors, count, ct))
                : problem!);
        app.MapGet("/posts-with-authors/naive", async (string? take, BlogRepository repository, CancellationToken ct) =>
            QueryParameters.TryParseTake(take, out int count, out IResult? problem)
                ? TypedResults.Ok(await NaiveAsync(repository, count, ct))
                : problem!);
    }

    /// <summary>
    /// Resolves each post's author as a GraphQL resolver would, one LoadAsync per post: the loads are issued in one
    /// burst, so the loader turns them into a single <c>WHERE id IN (...)</c> query of the distinct author ids.
    /// </summary>
    public static async Task<PostWithAuthor[]> WithLoaderAsync(BlogRepository repository, IDataLoader<int, Author> authors, int take, CancellationToken ct)
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
