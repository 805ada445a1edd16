namespace Tinybatch.Partitioning;

/// <summary>Creating partitions on demand, retiring idle ones, flush and stop.</summary>
public sealed partial class PartitionedBatcher<TKey, TJob, TResult>
{
    // Guards partition creation, retirement and the counters of retired partitions. Never held around user code.
    private readonly object _gate = new();
    private readonly HashSet<Partition<TKey, TJob, TResult>> _all = [];
    private readonly ITimer? _sweepTimer;
    private BatcherCounters _retiredTotals;
    private bool _started;
    private int _stopping;
    private long _refused;
    private long _rerouted;
    private long _partitionsCreated;
    private long _partitionsRetired;

    /// <summary>
    /// Starts dispatching in every partition, present and future. Calling it again does nothing. Jobs added before
    /// <see cref="Start"/> are buffered in their partitions and flow once it runs.
    /// </summary>
    public void Start()
    {
        Partition<TKey, TJob, TResult>[] existing;
        lock (_gate)
        {
            if (_started)
            {
                return;
            }

            _started = true;
            existing = [.. _all];
        }

        foreach (Partition<TKey, TJob, TResult> partition in existing)
        {
            partition.Batcher.Start();
        }
    }

    /// <summary>
    /// Dispatches what is pending in every partition now and completes when every job added before the call has an
    /// outcome, partitions being retired included.
    /// </summary>
    /// <param name="cancellationToken">Cancels this wait only; the jobs are still dispatched.</param>
    /// <returns>A task that completes when the earlier jobs have their outcomes.</returns>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        Partition<TKey, TJob, TResult>[] all;
        lock (_gate)
        {
            all = [.. _all];
        }

        var waits = new Task[all.Length];
        for (int i = 0; i < all.Length; i++)
        {
            // A retiring partition is draining already: its completion is its flush.
            waits[i] = all[i].Retired ? all[i].Batcher.Completion : all[i].Batcher.FlushAsync(CancellationToken.None);
        }

        Task flushed = Task.WhenAll(waits);
        return cancellationToken.CanBeCanceled ? flushed.WaitAsync(cancellationToken) : flushed;
    }

    /// <summary>
    /// Stops accepting jobs (every later add throws <see cref="BatcherStoppedException"/>), stops every partition,
    /// and completes when every accepted job has an outcome. Calling it again is safe.
    /// </summary>
    /// <param name="cancellationToken">
    /// The stop deadline, passed to every partition's <see cref="Batcher{TJob, TResult}.StopAsync"/>: when it fires,
    /// jobs still pending or in flight fail with <see cref="BatcherStoppedException"/>.
    /// </param>
    /// <returns>A task that completes when every partition has stopped.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        Partition<TKey, TJob, TResult>[] all;
        lock (_gate)
        {
            Volatile.Write(ref _stopping, 1);
            all = [.. _all];
        }

        _sweepTimer?.Dispose();
        var stops = new Task[all.Length];
        for (int i = 0; i < all.Length; i++)
        {
            stops[i] = all[i].Batcher.StopAsync(cancellationToken);
        }

        return Task.WhenAll(stops);
    }

    /// <summary>Stops every partition and drains it, as <see cref="StopAsync"/> without a deadline does.</summary>
    /// <returns>A task that completes when every accepted job has an outcome.</returns>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _lifetimeRegistration.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Test hook: completes when every live partition's loop is asleep with no batch in flight.</summary>
    internal Task WhenIdleAsync()
    {
        Partition<TKey, TJob, TResult>[] all;
        lock (_gate)
        {
            all = [.. _all];
        }

        return Task.WhenAll(all.Select(p => p.Retired ? p.Batcher.Completion : p.Batcher.WhenIdleAsync()));
    }

    /// <summary>Test hook: runs one idle sweep now, as the sweep timer does.</summary>
    internal void SweepNow() => Sweep();

    private Partition<TKey, TJob, TResult> GetOrCreate(TKey key) =>
        _partitions.TryGetValue(key, out Partition<TKey, TJob, TResult>? partition) ? partition : Create(key);

    private Partition<TKey, TJob, TResult> Create(TKey key)
    {
        ThrowIfStopping();
        if (_partitions.Count >= _maxPartitions)
        {
            // Checked again under the lock; this early check spares building a batcher for every refused key.
            ThrowTooManyPartitions(key);
        }

        // Built outside the lock: the options function is user code. A creation race wastes one unstarted batcher.
        Batcher<TJob, TResult> batcher = BuildBatcher(key);
        Partition<TKey, TJob, TResult>? winner;
        lock (_gate)
        {
            if (!_partitions.TryGetValue(key, out winner))
            {
                if (Volatile.Read(ref _stopping) != 0)
                {
                    winner = null;
                }
                else if (_partitions.Count >= _maxPartitions)
                {
                    _ = batcher.StopAsync();
                    ThrowTooManyPartitions(key);
                }
                else
                {
                    var created = new Partition<TKey, TJob, TResult>(key, batcher, _time.GetTimestamp());
                    _all.Add(created);
                    _partitions[key] = created;
                    _partitionsCreated++;
                    if (_started)
                    {
                        batcher.Start();
                    }

                    return created;
                }
            }
        }

        // Lost the race to another creator, or the batcher began stopping: this batcher never held a job.
        _ = batcher.StopAsync();
        if (winner is null)
        {
            ThrowStopped();
        }

        return winner;
    }

    private Batcher<TJob, TResult> BuildBatcher(TKey key)
    {
        var options = new BatcherOptions<TJob, TResult>();
        (_partitionOptions?.Invoke(key) ?? _template).CopyTo(options);
        if (_partitionOptions is null)
        {
            options.Name = $"{_name}/{key}";
        }

        options.TimeProvider = _time;
        if (_jitter > TimeSpan.Zero && options.MaxBatchDelay > TimeSpan.Zero)
        {
            // Saturates: a delay and jitter near TimeSpan.MaxValue add up to TimeSpan.MaxValue, never overflow.
            long jitterTicks = (long)(_jitter.Ticks * Math.Clamp(_randomizer(), 0, 1));
            long delayTicks = options.MaxBatchDelay.Ticks;
            options.MaxBatchDelay = TimeSpan.FromTicks(jitterTicks > long.MaxValue - delayTicks ? long.MaxValue : delayTicks + jitterTicks);
        }

        TKey captured = key;
        return new Batcher<TJob, TResult>((batch, ct) => _handler(captured, batch, ct), options);
    }

    /// <summary>Retires every partition that has had no add for the idle timeout and holds no job.</summary>
    private void Sweep()
    {
        if (Volatile.Read(ref _stopping) != 0)
        {
            return;
        }

        long now = _time.GetTimestamp();
        List<Partition<TKey, TJob, TResult>>? retiring = null;
        foreach (Partition<TKey, TJob, TResult> partition in _partitions.Values)
        {
            Batcher<TJob, TResult> batcher = partition.Batcher;
            if (_time.GetElapsedTime(partition.LastUsed, now) < _idleTimeout || batcher.PendingCount != 0 || batcher.InFlightBatches != 0)
            {
                continue;
            }

            lock (_gate)
            {
                // Removed only if still this partition; marked before its stop begins, so adds it refuses are rerouted.
                if (Volatile.Read(ref _stopping) == 0 && _partitions.TryRemove(new KeyValuePair<TKey, Partition<TKey, TJob, TResult>>(partition.Key, partition)))
                {
                    partition.MarkRetired();
                    (retiring ??= []).Add(partition);
                }
            }
        }

        foreach (Partition<TKey, TJob, TResult> partition in retiring ?? [])
        {
            _ = RetireAsync(partition);
        }
    }

    private async Task RetireAsync(Partition<TKey, TJob, TResult> partition)
    {
        // A job accepted just before the stop is drained by it: retirement never loses a job.
        await partition.Batcher.StopAsync().ConfigureAwait(false);
        lock (_gate)
        {
            if (_all.Remove(partition))
            {
                BatcherCounters final = partition.Batcher.Counters;
                _retiredTotals = Add(_retiredTotals, final);
                partition.FoldedRejected = final.Rejected;
                _partitionsRetired++;
            }
        }
    }

    private void ThrowIfStopping()
    {
        if (Volatile.Read(ref _stopping) != 0)
        {
            ThrowStopped();
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowTooManyPartitions(TKey key)
    {
        Interlocked.Increment(ref _refused);
        throw new TooManyPartitionsException(
            $"The partitioned batcher '{_name}' already has {_maxPartitions} live partitions (MaxPartitions): no partition could be created for key '{key}'.")
        {
            MaxPartitions = _maxPartitions,
        };
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowStopped()
    {
        Interlocked.Increment(ref _refused);
        throw new BatcherStoppedException($"The partitioned batcher '{_name}' is stopped (or its lifetime token was cancelled): it accepts no more jobs.");
    }

    /// <summary>True when an add was refused by a partition that retired under it, and must go to a fresh partition.</summary>
    private bool IsRerouted(Partition<TKey, TJob, TResult> partition)
    {
        if (!partition.Retired)
        {
            return false;
        }

        // The partition counted this refusal before throwing, but its drain may have completed, and its counters been
        // added to the totals, just before that count: add what it counted since.
        lock (_gate)
        {
            if (partition.FoldedRejected >= 0)
            {
                long rejected = partition.Batcher.Counters.Rejected;
                _retiredTotals = _retiredTotals with { Rejected = _retiredTotals.Rejected + rejected - partition.FoldedRejected };
                partition.FoldedRejected = rejected;
            }
        }

        if (Volatile.Read(ref _stopping) == 0)
        {
            Interlocked.Increment(ref _rerouted);
            return true;
        }

        return false;
    }
}
