using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Tinybatch.DataLoaderApi.Data;

namespace Tinybatch.WebTests;

/// <summary>The sample API, in memory: the loader turns the N+1 queries of the naive endpoint into one batched query.</summary>
public sealed class PostsWithAuthorsTests(WebApplicationFactory<BlogDatabase> factory) : IClassFixture<WebApplicationFactory<BlogDatabase>>
{
    private SqlStatementCounter Counter => factory.Services.GetRequiredService<SqlStatementCounter>();

    [Theory]
    [InlineData(10)]
    [InlineData(100)]
    [InlineData(BlogDatabase.PostCount)]
    public async Task GetPostsWithAuthors_NaiveVersusLoader_NaiveRunsOnePlusNStatementsLoaderOneOrTwoBatches(int take)
    {
        HttpClient client = factory.CreateClient();

        (string naive, long naiveStatements) = await GetCountingAsync(client, $"/posts-with-authors/naive?take={take}");
        (string loader, long loaderStatements) = await GetCountingAsync(client, $"/posts-with-authors/loader?take={take}");

        Assert.Equal(1 + take, naiveStatements);
        Assert.InRange(loaderStatements, 2, 3); // the posts query, then 1 (at most 2) batched author queries
        Assert.Equal(naive, loader);
    }

    [Fact]
    public async Task GetPostsWithAuthors_Loader_ReturnsEachPostWithItsOwnAuthor()
    {
        HttpClient client = factory.CreateClient();

        PostWithAuthor[] posts = (await client.GetFromJsonAsync<PostWithAuthor[]>("/posts-with-authors/loader?take=60"))!;

        Assert.Equal(60, posts.Length);
        Assert.Equal(Enumerable.Range(1, 60), posts.Select(p => p.Id));
        Assert.All(posts, p => Assert.Equal(((p.Id * 7) % BlogDatabase.AuthorCount) + 1, p.Author.Id));
        Assert.All(posts, p => Assert.Equal($"Author {p.Author.Id}", p.Author.Name));
    }

    [Fact]
    public async Task GetPostsWithAuthors_TwoRequests_EachRequestHasItsOwnLoaderAndCache()
    {
        HttpClient client = factory.CreateClient();

        (_, long first) = await GetCountingAsync(client, "/posts-with-authors/loader?take=20");
        (_, long second) = await GetCountingAsync(client, "/posts-with-authors/loader?take=20");

        // Had the cache outlived the first request, the second would need only its posts query (1 statement).
        // 3 rather than 2 when a preempted burst is split into two author queries.
        Assert.InRange(first, 2, 3);
        Assert.InRange(second, 2, 3);
    }

    [Fact]
    public async Task GetAuthors_ManyIdsWithDuplicates_OneQueryAndValuesInRequestOrder()
    {
        HttpClient client = factory.CreateClient();

        long before = Counter.Count;
        Author[] authors = (await client.GetFromJsonAsync<Author[]>("/authors?ids=5,3,5,9"))!;

        Assert.Equal([5, 3, 5, 9], authors.Select(a => a.Id));
        Assert.Equal(1, Counter.Count - before);
    }

    private async Task<(string Body, long Statements)> GetCountingAsync(HttpClient client, string url)
    {
        long before = Counter.Count;
        string body = await client.GetStringAsync(new Uri(url, UriKind.Relative));
        return (body, Counter.Count - before);
    }
}
