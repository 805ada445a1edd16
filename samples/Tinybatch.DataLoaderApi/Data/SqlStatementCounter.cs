namespace Tinybatch.DataLoaderApi.Data;

/// <summary>Counts the SQL statements the application executes, so tests and benchmarks can see the N+1 disappear.</summary>
public sealed class SqlStatementCounter
{
    private long _count;

    /// <summary>Gets the number of statements executed since the application started.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Records one executed statement.</summary>
    public void Increment() => Interlocked.Increment(ref _count);
}
