namespace Tinybatch.Benchmarks.Micro;

/// <summary>Holds a handler while the producer phase runs, so that no consumer competes with the producer.</summary>
internal sealed class Gate
{
    private readonly ManualResetEventSlim _open = new(true);

    public void Close() => _open.Reset();

    public void Open() => _open.Set();

    public void PassThrough() => _open.Wait();
}
