namespace Tinybatch.Partitioning;

/// <summary>One live (or retiring) partition: its key, its batcher, and when a job last came for it.</summary>
internal sealed class Partition<TKey, TJob, TResult>(TKey key, Batcher<TJob, TResult> batcher, long createdAt)
    where TKey : notnull
{
    private long _lastUsed = createdAt;
    private volatile bool _retired;

    public TKey Key { get; } = key;

    public Batcher<TJob, TResult> Batcher { get; } = batcher;

    /// <summary>Gets the timestamp of the last add, from the partitioned batcher's time provider.</summary>
    public long LastUsed => Volatile.Read(ref _lastUsed);

    /// <summary>
    /// Gets a value indicating whether the partition was taken out of the dictionary to retire. Set before its stop
    /// begins, so an add refused by the stop can tell a retirement (go to a fresh partition) from a real stop.
    /// </summary>
    public bool Retired => _retired;

    /// <summary>
    /// Gets or sets the rejections already added to the retired totals, once the partition has drained (under the
    /// owner's lock). An add that raced the stop may count its rejection just after: it is caught up then.
    /// </summary>
    public long FoldedRejected { get; set; } = -1;

    public void MarkRetired() => _retired = true;

    public Partition<TKey, TJob, TResult> Touch(long timestamp)
    {
        // Skip the write when nothing changed: producers of a hot key would otherwise fight over this cache line.
        if (Volatile.Read(ref _lastUsed) != timestamp)
        {
            Volatile.Write(ref _lastUsed, timestamp);
        }

        return this;
    }
}
