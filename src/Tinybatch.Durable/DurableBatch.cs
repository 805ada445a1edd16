using System.Collections;
using System.Diagnostics;
using Tinybatch.Durable.Internal;

namespace Tinybatch.Durable;

/// <summary>
/// One batch of journalled jobs handed to a <see cref="DurableBatcher{TJob}"/>'s handler. A job left without an
/// outcome succeeds when the handler returns; <see cref="Fail"/> and <see cref="Retry"/> report others, as on the
/// core batch. A job is released from the journal once its outcome is final.
/// </summary>
/// <remarks>Valid only while the handler runs: copy what you keep.</remarks>
/// <typeparam name="TJob">The job type.</typeparam>
[DebuggerDisplay("Batch {Id}: Count = {Count}")]
public sealed class DurableBatch<TJob> : IReadOnlyList<DurableJob<TJob>>
{
    private readonly Batch<Journalled<TJob>> _batch;
    private readonly int[]? _map;
    private readonly int _maxAttempts;

    internal DurableBatch(Batch<Journalled<TJob>> batch, int[]? map, int count, int maxAttempts)
    {
        _batch = batch;
        _map = map;
        Count = count;
        _maxAttempts = maxAttempts;
    }

    /// <summary>Gets the batch's id in this run (1, 2, 3 and so on).</summary>
    public long Id => _batch.Id;

    /// <summary>Gets the number of jobs in the batch.</summary>
    public int Count { get; }

    /// <summary>Gets the job at <paramref name="index"/>, with its sequence id and attempt number.</summary>
    /// <param name="index">The position of the job in the batch.</param>
    public DurableJob<TJob> this[int index]
    {
        get
        {
            int inner = Inner(index);
            var item = _batch[inner];
            return new DurableJob<TJob>(item.SequenceId, item.Job, item.PriorAttempts + _batch.GetAttempt(inner));
        }
    }

    /// <summary>Reports that the job at <paramref name="index"/> failed: it goes to the dead-letter callback and leaves the journal.</summary>
    /// <param name="index">The position of the job in the batch.</param>
    /// <param name="exception">Why it failed.</param>
    public void Fail(int index, Exception exception) => _batch.Fail(Inner(index), exception);

    /// <summary>
    /// Asks for the job at <paramref name="index"/> to be retried in a later batch. Attempts of earlier runs count
    /// towards <see cref="RetryPolicy.MaxAttempts"/>: a job that has used them all fails instead.
    /// </summary>
    /// <param name="index">The position of the job in the batch.</param>
    /// <param name="reason">Why it must be retried.</param>
    public void Retry(int index, Exception? reason = null)
    {
        int inner = Inner(index);
        var item = _batch[inner];
        int attempt = item.PriorAttempts + _batch.GetAttempt(inner);
        if (item.PriorAttempts > 0 && attempt >= _maxAttempts)
        {
            _batch.Fail(inner, DurableErrors.AttemptsExhausted(item.SequenceId, attempt, reason));
            return;
        }

        _batch.Retry(inner, reason);
    }

    /// <summary>Returns an enumerator over the jobs.</summary>
    /// <returns>The enumerator.</returns>
    public IEnumerator<DurableJob<TJob>> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private int Inner(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The batch has {Count} jobs; index must be in [0, {Count}).");
        }

        return _map is null ? index : _map[index];
    }
}
