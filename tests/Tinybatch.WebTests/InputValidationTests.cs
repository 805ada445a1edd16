using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Tinybatch.DataLoaderApi;
using Tinybatch.DataLoaderApi.Data;

namespace Tinybatch.WebTests;

/// <summary>Bad input gets a 400 ProblemDetails naming the parameter, a missing author a 404 naming it, and no query is unbounded.</summary>
public sealed class InputValidationTests(WebApplicationFactory<BlogDatabase> factory) : IClassFixture<WebApplicationFactory<BlogDatabase>>
{
    [Theory]
    [InlineData("/authors?ids=1,abc", "ids")]
    [InlineData("/authors?ids=", "ids")]
    [InlineData("/authors", "ids")]
    [InlineData("/authors?ids=1,,2", "ids")]
    [InlineData("/authors?ids=-3", "ids")]
    [InlineData("/authors?ids=99999999999", "ids")]
    [InlineData("/posts-with-authors/loader?take=-1", "take")]
    [InlineData("/posts-with-authors/naive?take=-1", "take")]
    [InlineData("/posts-with-authors/loader?take=0", "take")]
    [InlineData("/posts-with-authors/loader?take=501", "take")]
    [InlineData("/posts-with-authors/loader?take=abc", "take")]
    [InlineData("/authors-with-posts/loader?take=-1", "take")]
    [InlineData("/authors-with-posts/naive?take=100000", "take")]
    public async Task Get_InvalidParameter_Returns400ProblemDetailsNamingIt(string url, string parameter)
    {
        HttpResponseMessage response = await factory.CreateClient().GetAsync(new Uri(url, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        JsonElement errors = problem.GetProperty("errors");
        Assert.Equal([parameter], errors.EnumerateObject().Select(p => p.Name));
        Assert.Contains(parameter, errors.GetProperty(parameter)[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAuthors_TooManyIds_Returns400NamingIds()
    {
        string ids = string.Join(',', Enumerable.Range(1, QueryParameters.MaxIds + 1));

        HttpResponseMessage response = await factory.CreateClient().GetAsync(new Uri("/authors?ids=" + ids, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("ids", out _));
    }

    [Theory]
    [InlineData("/authors?ids=999999", new[] { 999999 })]
    [InlineData("/authors?ids=1,999999,2,888888", new[] { 999999, 888888 })]
    public async Task GetAuthors_IdWithoutAuthor_Returns404ProblemDetailsNamingTheMissingIds(string url, int[] missing)
    {
        HttpResponseMessage response = await factory.CreateClient().GetAsync(new Uri(url, UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(404, problem.GetProperty("status").GetInt32());
        Assert.Equal(missing, problem.GetProperty("missingIds").EnumerateArray().Select(e => e.GetInt32()));
        Assert.All(missing, id => Assert.Contains(id.ToString(System.Globalization.CultureInfo.InvariantCulture), problem.GetProperty("detail").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetPostsWithAuthors_NoTake_ReturnsTheDocumentedDefaultAndMaxTakeIsAccepted()
    {
        HttpClient client = factory.CreateClient();

        PostWithAuthor[] byDefault = (await client.GetFromJsonAsync<PostWithAuthor[]>("/posts-with-authors/loader"))!;
        PostWithAuthor[] most = (await client.GetFromJsonAsync<PostWithAuthor[]>($"/posts-with-authors/loader?take={QueryParameters.MaxTake}"))!;

        Assert.Equal(QueryParameters.DefaultTake, byDefault.Length);
        Assert.Equal(Math.Min(QueryParameters.MaxTake, BlogDatabase.PostCount), most.Length);
    }

    [Fact]
    public async Task GetAuthors_ServiceProvider_ResolvesTheLoadersRegisteredWithAddDataLoader()
    {
        await using AsyncServiceScope scope = factory.Services.CreateAsyncScope();

        Assert.Equal("authors", scope.ServiceProvider.GetRequiredService<DataLoader<int, Author>>().Name);
        Assert.Same(scope.ServiceProvider.GetRequiredService<DataLoader<int, Author>>(), scope.ServiceProvider.GetRequiredService<IDataLoader<int, Author>>());
        Assert.Equal("posts-by-author", scope.ServiceProvider.GetRequiredService<GroupedDataLoader<int, Post>>().Name);
    }
}
