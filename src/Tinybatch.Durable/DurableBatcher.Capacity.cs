using System.Collections.Concurrent;
using Tinybatch.Durable.Internal;

namespace Tinybatch.Durable;

/// <summary>
/// The journal's byte capacity (<see cref="BatcherOptions.MaxBufferedWeight"/>, jobs weighed by their record bytes)
/// with the batcher's overflow policy. It is held here, on the journal's live bytes, because a job's bytes stay in the
/// journal until its final outcome.
/// </summary>
public sealed partial class DurableBatcher<TJob>
{
    private readonly ConcurrentDictionary<long, TJob> _dropped = new();
    private readonly long _maxBytes;
    private readonly OverflowPolicy _policy;

    /// <summary>
    /// Journals a job within the byte capacity: returns its ticket, or -1 when the policy dropped it
    /// (<see cref="OverflowPolicy.DropWrite"/>). Waits for room under <see cref="OverflowPolicy.Wait"/>.
    /// </summary>
    private async ValueTask<(Journalled<TJob> Item, long Ticket)> AppendWithinCapacityAsync(TJob job, CancellationToken cancellationToken)
    {
        while (true)
        {
            var space = _journal.SpaceFreed;
            var (item, ticket) = Append(job, _maxBytes);
            if (ticket >= 0)
            {
                return (item, ticket);
            }

            if (item.Bytes > _maxBytes)
            {
                throw new JobTooHeavyException(
                    $"The job takes {item.Bytes} bytes in the journal, more than the MaxBufferedWeight of durable batcher '{Name}' ({_maxBytes}): no journal could hold it.")
                {
                    Weight = item.Bytes,
                    MaxWeight = _maxBytes,
                    LimitName = nameof(BatcherOptions.MaxBufferedWeight),
                };
            }

            switch (_policy)
            {
                case OverflowPolicy.Reject:
                    var full = new BatcherFullException($"The journal of durable batcher '{Name}' holds {_journal.Counters.LiveBytes} of its {_maxBytes} bytes; the job ({item.Bytes} bytes) is refused.");
                    DeadLetter(item, DeadLetterReason.Rejected, full, JobStage.NotAccepted);
                    throw full;
                case OverflowPolicy.DropWrite:
                    DeadLetter(item, DeadLetterReason.Dropped, new JobDroppedException($"The journal of durable batcher '{Name}' is full; the job being added was dropped (DropWrite)."), JobStage.NotAccepted);
                    return (item, -1);
                case OverflowPolicy.DropOldest when DropOldest():
                    continue;
                default:
                    await space.WaitAsync(cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
    }

    /// <summary>
    /// Drops the oldest job no handler has now: it leaves the journal at once, and its dead letter is delivered when the
    /// batcher reaches it (its place in the memory buffer is reclaimed then).
    /// </summary>
    private bool DropOldest()
    {
        long sequenceId = _journal.ReleaseOldestWaiting();
        if (sequenceId < 0)
        {
            return false;
        }

        _dropped.TryAdd(sequenceId, default!);
        return true;
    }

    private void DeadLetter(Journalled<TJob> item, DeadLetterReason reason, Exception exception, JobStage stage)
    {
        try
        {
            _onDeadLetter?.Invoke(new DeadLetter<DurableJob<TJob>>(new DurableJob<TJob>(item.SequenceId, item.Job, item.PriorAttempts), reason, exception, 0, stage));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // As in the core: a failing callback is the callback's problem, never the caller's.
            System.Diagnostics.Debug.WriteLine($"Tinybatch.Durable: the dead-letter callback threw: {ex}");
        }
    }
}
