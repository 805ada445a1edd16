namespace Tinybatch.Extensions.Hosting.Internal;

/// <summary>
/// What the hosted service drives of one batcher, whatever its kind: lifecycle is not on the <c>IBatcher</c> interfaces
/// (its owner drives it), and <see cref="Batcher{TJob}"/> and <see cref="Batcher{TJob, TResult}"/> share no base type.
/// </summary>
internal sealed record BatcherLifecycle(string Name, Action Start, Func<CancellationToken, Task> StopAsync, Func<BatcherCounters> Counters)
{
    public static BatcherLifecycle Of<TJob, TResult>(Batcher<TJob, TResult> batcher) =>
        new(batcher.Name, batcher.Start, batcher.StopAsync, () => batcher.Counters);

    public static BatcherLifecycle Of<TJob>(Batcher<TJob> batcher) =>
        new(batcher.Name, batcher.Start, batcher.StopAsync, () => batcher.Counters);
}
