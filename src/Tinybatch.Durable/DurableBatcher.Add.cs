using System.Threading.Channels;
using Tinybatch.Durable.Internal;

namespace Tinybatch.Durable;

/// <summary>Adding: journal the job, wait for the commit that covers it, then hand it to the batcher.</summary>
public sealed partial class DurableBatcher<TJob>
{
    /// <summary>
    /// Adds a job: it is written to the journal, and the returned task completes once a commit covers it and the
    /// batcher has accepted it. From then on the job survives a crash.
    /// </summary>
    /// <param name="job">The job.</param>
    /// <param name="cancellationToken">Cancels a wait for space (policy <see cref="OverflowPolicy.Wait"/>).</param>
    /// <returns>A task that completes when the job is durable and accepted.</returns>
    /// <exception cref="JournalWriteException">The journal could not write the commit (for example, the disk is full).</exception>
    /// <exception cref="BatcherFullException">The buffer or journal is full and the policy is <see cref="OverflowPolicy.Reject"/>.</exception>
    /// <exception cref="BatcherStoppedException">The batcher is stopped.</exception>
    public async ValueTask AddAsync(TJob job, CancellationToken cancellationToken = default)
    {
        var replay = _replay;
        if (!replay.IsCompleted)
        {
            await replay.ConfigureAwait(false);
        }

        var item = await AppendWithinCapacityAsync(job, cancellationToken).ConfigureAwait(false);
        if (item.Ticket < 0)
        {
            return;
        }

        try
        {
            await _journal.WaitForCommitAsync(item.Ticket).ConfigureAwait(false);
            await _batcher.AddAsync(item.Item, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Not accepted: the caller sees the exception, so the job must not come back after a restart.
            _journal.Release([item.Item.SequenceId]);
            throw;
        }
    }

    /// <summary>
    /// Adds a job without waiting: it is written to the journal's buffer and given to the batcher at once, and becomes
    /// durable with the next commit (before any handler sees it). Use <see cref="AddAsync"/> or <see cref="FlushAsync"/>
    /// to know it is on disk.
    /// </summary>
    /// <param name="job">The job.</param>
    /// <returns>
    /// <see langword="true"/> if the batcher accepted the job; <see langword="false"/> if it refused it (full, stopped, or
    /// still replaying recovered jobs).
    /// </returns>
    public bool TryAdd(TJob job)
    {
        // Recovered jobs go first: while they are being replayed, only waiting adds queue up behind them.
        if (!_replay.IsCompleted || _batcher.State >= BatcherState.Stopping)
        {
            return false;
        }

        (Journalled<TJob> Item, long Ticket) item;
        try
        {
            item = Append(job, _maxBytes);
        }
        catch (BatcherStoppedException)
        {
            return false;
        }

        if (item.Ticket < 0)
        {
            // No room in the journal: TryAdd never waits and never drops another job, whatever the policy.
            return false;
        }

        if (_batcher.TryAdd(item.Item))
        {
            return true;
        }

        _journal.Release([item.Item.SequenceId]);
        return false;
    }

    /// <summary>Adds jobs without waiting, as <see cref="TryAdd"/> does, until one is refused.</summary>
    /// <param name="jobs">The jobs.</param>
    /// <returns>How many jobs, from the first, were accepted.</returns>
    public int TryAddRange(ReadOnlySpan<TJob> jobs)
    {
        int count = 0;
        while (count < jobs.Length && TryAdd(jobs[count]))
        {
            count++;
        }

        return count;
    }

    /// <summary>Adds the jobs of an asynchronous stream one after the other, as <see cref="AddAsync"/> does.</summary>
    /// <param name="source">The jobs.</param>
    /// <param name="cancellationToken">Stops the adding; the count so far is returned.</param>
    /// <returns>How many jobs were accepted.</returns>
    public async ValueTask<long> AddRangeAsync(IAsyncEnumerable<TJob> source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        long count = 0;
        try
        {
            await foreach (var job in source.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                await AddAsync(job, cancellationToken).ConfigureAwait(false);
                count++;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return count;
    }

    /// <summary>Adds the jobs read from a channel until it completes, as <see cref="AddAsync"/> does.</summary>
    /// <param name="source">The channel.</param>
    /// <param name="cancellationToken">Stops the adding; the count so far is returned.</param>
    /// <returns>How many jobs were accepted.</returns>
    public async ValueTask<long> AddRangeAsync(ChannelReader<TJob> source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        long count = 0;
        try
        {
            while (await source.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (source.TryRead(out var job))
                {
                    await AddAsync(job, cancellationToken).ConfigureAwait(false);
                    count++;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return count;
    }

    /// <summary>Adds jobs one after the other, as <see cref="AddAsync"/> does.</summary>
    /// <param name="jobs">The jobs.</param>
    /// <param name="cancellationToken">Stops the adding; the count so far is returned.</param>
    /// <returns>How many jobs were accepted.</returns>
    public async ValueTask<long> AddRangeAsync(IEnumerable<TJob> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        long count = 0;
        foreach (var job in jobs)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            try
            {
                await AddAsync(job, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            count++;
        }

        return count;
    }

    private (Journalled<TJob> Item, long Ticket) Append(TJob job, long maxBytes)
    {
        long sequenceId = _journal.NextSequenceId();
        var buffer = RecordBuffer.ForCurrentThread;
        Internal.Journal.BuildJobRecord(buffer, sequenceId, 0, (_serializer, job), static (s, b) => s._serializer.Serialize(s.job, b));
        long ticket;
        try
        {
            ticket = _journal.TryAppendJob(sequenceId, 0, buffer.WrittenSpan, maxBytes);
        }
        catch (ObjectDisposedException)
        {
            throw new BatcherStoppedException($"The durable batcher '{Name}' is stopped: its journal is closed and accepts no more jobs.");
        }

        return (new Journalled<TJob>(sequenceId, job, 0, buffer.WrittenCount), ticket);
    }
}
