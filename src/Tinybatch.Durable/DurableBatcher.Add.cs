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

        var item = Append(job);
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
    /// <returns><see langword="true"/> if the batcher accepted the job; <see langword="false"/> if it refused it (full or stopped).</returns>
    public bool TryAdd(TJob job)
    {
        if (!_replay.IsCompleted)
        {
            return false;
        }

        var item = Append(job);
        if (_batcher.TryAdd(item.Item))
        {
            return true;
        }

        _journal.Release([item.Item.SequenceId]);
        return false;
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

    private (Journalled<TJob> Item, long Ticket) Append(TJob job)
    {
        long sequenceId = _journal.NextSequenceId();
        var buffer = RecordBuffer.ForCurrentThread;
        Internal.Journal.BuildJobRecord(buffer, sequenceId, 0, (_serializer, job), static (s, b) => s._serializer.Serialize(s.job, b));
        long ticket;
        try
        {
            ticket = _journal.AppendJob(sequenceId, 0, buffer.WrittenSpan);
        }
        catch (ObjectDisposedException)
        {
            throw new BatcherStoppedException($"The durable batcher '{Name}' is stopped: its journal is closed and accepts no more jobs.");
        }

        return (new Journalled<TJob>(sequenceId, job, 0, buffer.WrittenCount), ticket);
    }
}
