using Tinybatch.DataLoaderApi.Data;

namespace Tinybatch.DataLoaderApi;

/// <summary>
/// Authors by id (LoadManyAsync, a missing id is a 404), and authors with their posts computed two ways: through the
/// request's grouped loader, and naively (N+1 queries).
/// </summary>
public static class AuthorEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    public static void MapAuthorEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/authors", GetAuthorsAsync);
        app.MapGet("/authors-with-posts/loader", async (string? take, BlogRepository repository, IGroupedDataLoader<int, Post> posts, CancellationToken ct) =>
            QueryParameters.TryParseTake(take, out int count, out IResult? problem)
                ? TypedResults.Ok(await WithLoaderAsync(repository, posts, count, ct))
                : problem!);
        app.MapGet("/authors-with-posts/naive", async (string? take, BlogRepository repository, CancellationToken ct) =>
            QueryParameters.TryParseTake(take, out int count, out IResult? problem)
                ? TypedResults.Ok(await NaiveAsync(repository, count, ct))
                : problem!);
    }

    /// <summary>
    /// Loads the listed authors in one query. An id with no author answers 404 naming it; the loader's other errors
    /// are the server's (500).
    /// </summary>
    public static async Task<IResult> GetAuthorsAsync(string? ids, IDataLoader<int, Author> authors, CancellationToken ct)
    {
        if (!QueryParameters.TryParseIds(ids, out int[] keys, out IResult? problem))
        {
            return problem!;
        }

        try
        {
            return TypedResults.Ok(await authors.LoadManyAsync(keys, ct));
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e.InnerException is KeyNotFoundException))
        {
            // LoadManyAsync wraps each key's own error in a KeyLoadException that names the key.
            object?[] missing = [.. ex.InnerExceptions.Cast<KeyLoadException>().Select(e => e.Key).Distinct()];
            return TypedResults.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "Author not found.",
                detail: $"No author has id {string.Join(", ", missing)}.",
                extensions: new Dictionary<string, object?> { ["missingIds"] = missing });
        }
    }

    /// <summary>
    /// One query for the authors, then one LoadAsync per author, issued in one burst: the grouped loader turns them
    /// into a single <c>WHERE author_id IN (...)</c> query. 2 statements.
    /// </summary>
    public static async Task<AuthorWithPosts[]> WithLoaderAsync(BlogRepository repository, IGroupedDataLoader<int, Post> posts, int take, CancellationToken ct)
    {
        List<Author> authors = await repository.GetAuthorsPageAsync(take, ct);
        return await Task.WhenAll(authors.Select(async author => new AuthorWithPosts(author, await posts.LoadAsync(author.Id, ct))));
    }

    /// <summary>Reads each author's posts with its own query: 1 + N statements.</summary>
    public static async Task<AuthorWithPosts[]> NaiveAsync(BlogRepository repository, int take, CancellationToken ct)
    {
        List<Author> authors = await repository.GetAuthorsPageAsync(take, ct);
        var result = new AuthorWithPosts[authors.Count];
        for (int i = 0; i < authors.Count; i++)
        {
            result[i] = new AuthorWithPosts(authors[i], await repository.GetPostsByAuthorAsync(authors[i].Id, ct));
        }

        return result;
    }
}
