using System.Collections.Concurrent;

namespace Tinybatch.Extensions.Hosting.Tests;

/// <summary>A scoped dependency: each instance gets a new id, so tests can tell scopes apart.</summary>
public sealed class ScopeProbe : IDisposable
{
    private static int s_next;

    public int Id { get; } = Interlocked.Increment(ref s_next);

    public bool Disposed { get; private set; }

    public void Dispose() => Disposed = true;
}

/// <summary>Records, per batch, the probe it saw; doubles every job.</summary>
public sealed class DoublingHandler(ScopeProbe probe, DoublingHandler.Journal journal) : IBatchHandler<int, int>
{
    public ValueTask HandleAsync(Batch<int, int> batch, CancellationToken cancellationToken)
    {
        journal.Probes.Add(probe);
        for (int i = 0; i < batch.Count; i++)
        {
            batch.SetResult(i, batch[i] * 2);
        }

        return ValueTask.CompletedTask;
    }

    public sealed class Journal
    {
        public ConcurrentBag<ScopeProbe> Probes { get; } = [];
    }
}
