namespace Tinybatch.Partitioning;

/// <summary>Adding jobs: pick the partition by key, then add as the core batcher does.</summary>
public sealed partial class PartitionedBatcher<TKey, TJob, TResult>
{
    /// <summary>Adds a fire-and-forget job to its key's partition without waiting.</summary>
    /// <param name="job">The job.</param>
    /// <returns>
    /// <see langword="true"/> if the job was accepted; <see langword="false"/> if its partition's buffer is full or the
    /// batcher is stopping or stopped (each refusal counted in <see cref="BatcherCounters.Rejected"/>).
    /// </returns>
    /// <exception cref="TooManyPartitionsException">The job's key needs a new partition and the limit is reached.</exception>
    /// <exception cref="JobTooHeavyException">The job weighs more than its partition accepts for one job.</exception>
    public bool TryAdd(TJob job)
    {
        TKey key = _keySelector(job);
        while (true)
        {
            if (Volatile.Read(ref _stopping) != 0)
            {
                Interlocked.Increment(ref _refused);
                return false;
            }

            Partition<TKey, TJob, TResult> partition;
            try
            {
                partition = GetOrCreate(key).Touch(_time.GetTimestamp());
            }
            catch (BatcherStoppedException)
            {
                // Counted by the refusal itself.
                return false;
            }

            if (partition.Batcher.TryAdd(job))
            {
                return true;
            }

            if (!IsRerouted(partition))
            {
                return false;
            }

            // The partition retired between the lookup and the add: try again on a fresh one.
        }
    }

    /// <summary>
    /// Adds a fire-and-forget job to its key's partition. It completes as soon as the job is accepted; when the
    /// partition's buffer is full it acts on the partition's <see cref="BatcherOptions.OverflowPolicy"/>.
    /// </summary>
    /// <param name="job">The job.</param>
    /// <param name="cancellationToken">Cancels the wait for space; it has no effect once the job is accepted.</param>
    /// <returns>A task that completes when the job is accepted.</returns>
    /// <exception cref="BatcherStoppedException">The batcher is stopping or stopped.</exception>
    /// <exception cref="TooManyPartitionsException">The job's key needs a new partition and the limit is reached.</exception>
    /// <exception cref="BatcherFullException">The partition is full and its policy is <see cref="OverflowPolicy.Reject"/>.</exception>
    /// <exception cref="JobTooHeavyException">The job weighs more than its partition's <see cref="BatcherOptions.MaxBatchWeight"/>.</exception>
    public ValueTask AddAsync(TJob job, CancellationToken cancellationToken = default)
    {
        TKey key = _keySelector(job);
        Partition<TKey, TJob, TResult> partition = GetOrCreate(key).Touch(_time.GetTimestamp());
        ValueTask pending;
        try
        {
            pending = partition.Batcher.AddAsync(job, cancellationToken);
        }
        catch (BatcherStoppedException) when (IsRerouted(partition))
        {
            return AddAsyncSlow(job, key, default, null, cancellationToken);
        }

        return pending.IsCompletedSuccessfully ? default : AddAsyncSlow(job, key, pending, partition, cancellationToken);
    }

    /// <summary>Adds a job to its key's partition and waits for its own result.</summary>
    /// <param name="job">The job.</param>
    /// <param name="cancellationToken">Cancels this caller's wait, as <see cref="Batcher{TJob, TResult}.AddAndWaitAsync"/> does.</param>
    /// <returns>The job's result.</returns>
    /// <exception cref="BatcherStoppedException">The batcher is stopping or stopped, or the stop deadline expired first.</exception>
    /// <exception cref="TooManyPartitionsException">The job's key needs a new partition and the limit is reached.</exception>
    /// <exception cref="BatcherFullException">The partition is full and its policy is <see cref="OverflowPolicy.Reject"/>.</exception>
    /// <exception cref="JobDroppedException">The job was dropped by a drop policy.</exception>
    /// <exception cref="JobTooHeavyException">The job weighs more than its partition's <see cref="BatcherOptions.MaxBatchWeight"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<TResult> AddAndWaitAsync(TJob job, CancellationToken cancellationToken = default)
    {
        TKey key = _keySelector(job);
        Partition<TKey, TJob, TResult> partition = GetOrCreate(key).Touch(_time.GetTimestamp());
        try
        {
            ValueTask<TResult> pending = partition.Batcher.AddAndWaitAsync(job, cancellationToken);
            return pending.IsCompleted ? pending : AddAndWaitSlowAsync(job, key, pending, partition, cancellationToken);
        }
        catch (BatcherStoppedException) when (IsRerouted(partition))
        {
            return AddAndWaitSlowAsync(job, key, default, null, cancellationToken);
        }
    }

    private async ValueTask AddAsyncSlow(
        TJob job, TKey key, ValueTask pending, Partition<TKey, TJob, TResult>? partition, CancellationToken cancellationToken)
    {
        if (partition is not null)
        {
            try
            {
                await pending.ConfigureAwait(false);
                return;
            }
            catch (BatcherStoppedException) when (IsRerouted(partition))
            {
                // Refused while it waited for space in a partition that then retired.
            }
        }

        while (true)
        {
            partition = GetOrCreate(key).Touch(_time.GetTimestamp());
            try
            {
                await partition.Batcher.AddAsync(job, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (BatcherStoppedException) when (IsRerouted(partition))
            {
                // Retired again under us: go round once more.
            }
        }
    }

    private async ValueTask<TResult> AddAndWaitSlowAsync(
        TJob job, TKey key, ValueTask<TResult> pending, Partition<TKey, TJob, TResult>? partition, CancellationToken cancellationToken)
    {
        // A retired partition is stopped without a deadline, so BatcherStoppedException from it means the add itself
        // was refused (the job never entered it): sending it to a fresh partition cannot run it twice.
        if (partition is not null)
        {
            try
            {
                return await pending.ConfigureAwait(false);
            }
            catch (BatcherStoppedException) when (IsRerouted(partition))
            {
            }
        }

        while (true)
        {
            partition = GetOrCreate(key).Touch(_time.GetTimestamp());
            try
            {
                return await partition.Batcher.AddAndWaitAsync(job, cancellationToken).ConfigureAwait(false);
            }
            catch (BatcherStoppedException) when (IsRerouted(partition))
            {
            }
        }
    }
}
