namespace Tinybatch.DataLoaderApi.Data;

/// <summary>What the endpoints return: a post with its author resolved.</summary>
public sealed record PostWithAuthor(int Id, string Title, Author Author);
