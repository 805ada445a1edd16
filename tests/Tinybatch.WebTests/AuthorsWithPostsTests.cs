using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Tinybatch.DataLoaderApi.Data;

namespace Tinybatch.WebTests;

/// <summary>The one-to-many half of N+1: the grouped loader reads every listed author's posts in one query.</summary>
public sealed class AuthorsWithPostsTests(WebApplicationFactory<BlogDatabase> factory) : IClassFixture<WebApplicationFactory<BlogDatabase>>
{
    private SqlStatementCounter Counter => factory.Services.GetRequiredService<SqlStatementCounter>();

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(BlogDatabase.AuthorCount)]
    public async Task GetAuthorsWithPosts_NaiveVersusGroupedLoader_NaiveRunsOnePlusNStatementsLoaderTwo(int take)
    {
        HttpClient client = factory.CreateClient();

        (string naive, long naiveStatements) = await GetCountingAsync(client, $"/authors-with-posts/naive?take={take}");
        (string loader, long loaderStatements) = await GetCountingAsync(client, $"/authors-with-posts/loader?take={take}");

        Assert.Equal(1 + take, naiveStatements);
        Assert.InRange(loaderStatements, 2, 3); // the authors query, then 1 (at most 2, if the burst is split) posts query
        Assert.Equal(naive, loader);
    }

    [Fact]
    public async Task GetAuthorsWithPosts_Loader_ReturnsEachAuthorWithExactlyTheirPostsInIdOrder()
    {
        HttpClient client = factory.CreateClient();

        AuthorWithPosts[] authors = (await client.GetFromJsonAsync<AuthorWithPosts[]>("/authors-with-posts/loader?take=5"))!;

        Assert.Equal([1, 2, 3, 4, 5], authors.Select(a => a.Author.Id));
        foreach (AuthorWithPosts entry in authors)
        {
            int[] expected = [.. Enumerable.Range(1, BlogDatabase.PostCount).Where(i => ((i * 7) % BlogDatabase.AuthorCount) + 1 == entry.Author.Id)];
            Assert.Equal(expected, entry.Posts.Select(p => p.Id));
            Assert.All(entry.Posts, p => Assert.Equal(entry.Author.Id, p.AuthorId));
        }
    }

    private async Task<(string Body, long Statements)> GetCountingAsync(HttpClient client, string url)
    {
        long before = Counter.Count;
        string body = await client.GetStringAsync(new Uri(url, UriKind.Relative));
        return (body, Counter.Count - before);
    }
}
