namespace Tinybatch.Tests.TestSupport;

/// <summary>What the tests need of an async stream on both target frameworks (net8.0 has no System.Linq.AsyncEnumerable).</summary>
internal static class AsyncEnumerables
{
    public static async Task<List<T>> CollectAsync<T>(this IAsyncEnumerable<T> source)
    {
        var items = new List<T>();
        await foreach (T item in source)
        {
            items.Add(item);
        }

        return items;
    }
}
