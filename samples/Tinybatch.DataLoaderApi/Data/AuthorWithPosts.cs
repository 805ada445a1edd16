namespace Tinybatch.DataLoaderApi.Data;

/// <summary>What the authors-with-posts endpoints return: an author and their posts, by id.</summary>
public sealed record AuthorWithPosts(Author Author, IReadOnlyList<Post> Posts);
