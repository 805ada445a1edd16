using Tinybatch.Durable.Internal;

namespace Tinybatch.Durable;

/// <summary>Dispatch: record attempts durably, then run the handler; outcomes release jobs from the journal.</summary>
public sealed partial class DurableBatcher<TJob>
{
    private async ValueTask HandleAsync(Batch<Journalled<TJob>> batch, CancellationToken cancellationToken)
    {
        int count = batch.Count;
        int[]? map = null;
        var attempts = new (long SequenceId, int Attempt)[count];
        int shown = 0;
        bool mustPersistAttempts = false;
        for (int i = 0; i < count; i++)
        {
            var item = batch[i];
            int attempt = item.PriorAttempts + batch.GetAttempt(i);
            mustPersistAttempts |= item.Recovered || attempt > 1;
            attempts[i] = (item.SequenceId, attempt);
            if (!_dropped.IsEmpty && _dropped.TryRemove(item.SequenceId, out _))
            {
                // Dropped from the journal by DropOldest while it waited: it ends here, without reaching the handler.
                DeadLetter(item, DeadLetterReason.Dropped, new JobDroppedException($"The journal of durable batcher '{Name}' was full; job {item.SequenceId} was the oldest waiting and was dropped (DropOldest)."), JobStage.Queued);
                map ??= Enumerable.Range(0, i).ToArray();
                continue;
            }

            if (item.PriorAttempts >= _maxAttempts)
            {
                // Handled that often in earlier runs without an outcome (it may be what stopped them): fail it now.
                batch.Fail(i, DurableErrors.AttemptsExhausted(item.SequenceId, item.PriorAttempts, null));
                map ??= Enumerable.Range(0, i).ToArray();
                continue;
            }

            if (map is not null)
            {
                Array.Resize(ref map, shown + 1);
                map[shown] = i;
            }

            shown++;
        }

        // A job that kills the process while it is handled must not be retried for ever, so attempts of replayed or
        // retried jobs are on disk before the handler runs. A fresh job's first attempt is committed with the next
        // commit without waiting: if the process dies first, the job comes back as recovered, and from then on its
        // attempts are waited for. This keeps a commit out of the path of every first batch.
        long ticket = _journal.AppendAttempts(attempts);
        if (mustPersistAttempts)
        {
            try
            {
                await _journal.WaitForCommitAsync(ticket).ConfigureAwait(false);
            }
            catch (JournalWriteException)
            {
                // Already reported and counted by the journal; delivering the batch matters more than its attempt count.
            }
        }

        if (shown > 0)
        {
            await _handleBatch(new DurableBatch<TJob>(batch, map, shown, _maxAttempts), cancellationToken).ConfigureAwait(false);
        }
    }

    private void OnBatchCompleted(Batch<Journalled<TJob>> batch)
    {
        Span<long> done = batch.Count <= 256 ? stackalloc long[batch.Count] : new long[batch.Count];
        int n = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            if (batch.GetStatus(i) == JobStatus.Succeeded)
            {
                done[n++] = batch[i].SequenceId;
            }
        }

        // Failed jobs are released when their dead letter is delivered; jobs to retry stay, no longer in a handler.
        _journal.Release(done[..n]);
        if (n < batch.Count)
        {
            Span<long> retried = batch.Count <= 256 ? stackalloc long[batch.Count] : new long[batch.Count];
            int r = 0;
            for (int i = 0; i < batch.Count; i++)
            {
                if (batch.GetStatus(i) == JobStatus.Retry)
                {
                    retried[r++] = batch[i].SequenceId;
                }
            }

            _journal.LeftHandler(retried[..r]);
        }
    }

    private void OnCoreDeadLetter(DeadLetter<Journalled<TJob>> letter)
    {
        var item = letter.Job;
        if (letter.Reason != DeadLetterReason.Stopped)
        {
            _journal.Release([item.SequenceId]);
        }

        _onDeadLetter?.Invoke(new DeadLetter<DurableJob<TJob>>(
            new DurableJob<TJob>(item.SequenceId, item.Job, item.PriorAttempts + letter.Attempts), letter.Reason, letter.Exception, letter.Attempts, letter.Stage));
    }
}
