namespace Tinybatch.DataLoaderApi.Data;

/// <summary>A row of the posts table.</summary>
public sealed record Post(int Id, string Title, int AuthorId);
