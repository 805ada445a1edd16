namespace Tinybatch.DataLoaderApi.Data;

/// <summary>A row of the authors table.</summary>
public sealed record Author(int Id, string Name, string Email);
