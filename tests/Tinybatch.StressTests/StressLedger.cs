using System.Collections.Concurrent;

namespace Tinybatch.StressTests;

/// <summary>
/// Everything one round observed, per job id: how the add went, how often the handler saw the job, and every outcome
/// the batcher reported for it (batch completion, dead letter, or the caller's cancellation while queued).
/// </summary>
public sealed class StressLedger
{
    public ConcurrentDictionary<long, int> AcceptedFireAndForget { get; } = new();

    public ConcurrentDictionary<long, Task<long>> Awaited { get; } = new();

    public ConcurrentDictionary<long, int> HandlerSeen { get; } = new();

    public ConcurrentDictionary<long, int> BatchOutcomes { get; } = new();

    public ConcurrentDictionary<long, int> StopDeadLetters { get; } = new();

    private long _refusedAtAdd;

    public long RefusedAtAdd => Volatile.Read(ref _refusedAtAdd);

    public void Refused() => Interlocked.Increment(ref _refusedAtAdd);

    public void Count(ConcurrentDictionary<long, int> map, long id) => map.AddOrUpdate(id, 1, static (_, n) => n + 1);
}
