using System.Collections;
using System.Diagnostics;
using Tinybatch.Internal;

namespace Tinybatch;

/// <summary>
/// One dispatched batch: its jobs, in FIFO order, and their outcomes. A handler reports a job's failure with
/// <see cref="Fail"/> or asks for a retry with <see cref="Retry"/>; <see cref="Batch{TJob, TResult}"/> adds results.
/// </summary>
/// <remarks>
/// Batch objects are pooled: a batch is valid only while its handler or completion callback runs. Copy what you keep
/// (<see cref="ToArray"/>). Reporting outcomes is safe from any one thread at a time.
/// </remarks>
/// <typeparam name="TJob">The job type.</typeparam>
[DebuggerDisplay("Batch {Id}: Count = {Count}")]
public class Batch<TJob> : IReadOnlyList<TJob>
{
    internal JobEntry<TJob>[] Entries;
    internal JobStatus[] Statuses;
    internal Exception?[] Exceptions;
    internal int Size;
    internal long Weight;
    internal long DispatchTimestamp;
    internal Exception? HandlerException;

    /// <summary>Whether any slot of <see cref="Exceptions"/> may be set, so <see cref="Reset"/> must clear it.</summary>
    internal bool HasExceptions;

    /// <summary>0 while the handler owns the batch, 1 once its outcomes are applied (normally or by abandonment).</summary>
    internal int Finalized;

    /// <summary>Set when the batch was abandoned (stop deadline or handler timeout): it must never go back to the pool.</summary>
    internal bool Abandoned;

    /// <summary>The pooled thread-pool work item that runs this batch.</summary>
    internal IThreadPoolWorkItem? WorkItem;

    /// <summary>Set while a handler timeout watches the batch.</summary>
    internal CancellationTokenSource? TimeoutSource;

    /// <summary>The timer of the handler timeout, if any.</summary>
    internal ITimer? TimeoutTimer;

    /// <summary>The batch's trace activity, when tracing listens.</summary>
    internal Activity? Activity;

    internal Batch(int capacity)
    {
        Entries = new JobEntry<TJob>[capacity];
        Statuses = new JobStatus[capacity];
        Exceptions = new Exception?[capacity];
    }

    /// <summary>Gets the batch's sequence number: 1 for the first batch a batcher dispatches, then 2, 3 and so on.</summary>
    public long Id { get; internal set; }

    /// <summary>Gets the number of jobs in the batch.</summary>
    public int Count => Size;

    /// <summary>Gets the total weight of the batch's jobs (their count when no weigher is set).</summary>
    public long TotalWeight => Weight;

    /// <summary>Gets the exception the handler threw, if it threw.</summary>
    public Exception? Exception => HandlerException;

    /// <summary>Gets the job at <paramref name="index"/>.</summary>
    /// <param name="index">The position of the job in the batch.</param>
    public TJob this[int index]
    {
        get
        {
            CheckIndex(index);
            return Entries[index].Job;
        }
    }

    /// <summary>Gets how many times a handler has seen the job, this call included (1 on the first attempt).</summary>
    /// <param name="index">The position of the job in the batch.</param>
    /// <returns>The attempt number.</returns>
    public int GetAttempt(int index)
    {
        CheckIndex(index);
        return Entries[index].Attempts;
    }

    /// <summary>Gets the outcome reported so far for the job at <paramref name="index"/>.</summary>
    /// <param name="index">The position of the job in the batch.</param>
    /// <returns>The status; <see cref="JobStatus.Pending"/> while nothing was reported.</returns>
    public JobStatus GetStatus(int index)
    {
        CheckIndex(index);
        return Statuses[index];
    }

    /// <summary>Gets the exception reported for the job at <paramref name="index"/>: its failure or its retry reason.</summary>
    /// <param name="index">The position of the job in the batch.</param>
    /// <returns>The exception, or <see langword="null"/>.</returns>
    public Exception? GetException(int index)
    {
        CheckIndex(index);
        return Exceptions[index];
    }

    /// <summary>Reports that the job at <paramref name="index"/> failed with <paramref name="exception"/>.</summary>
    /// <param name="index">The position of the job in the batch.</param>
    /// <param name="exception">The exception its awaiter gets and its dead letter carries.</param>
    /// <exception cref="InvalidOperationException">The job already has an outcome.</exception>
    public void Fail(int index, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        CheckUnset(index);
        Exceptions[index] = exception;
        HasExceptions = true;
        Statuses[index] = JobStatus.Failed;
    }

    /// <summary>
    /// Asks for the job at <paramref name="index"/> to be retried in a later batch. When it has used all its attempts
    /// (<see cref="RetryPolicy.MaxAttempts"/>) it fails instead, with <paramref name="reason"/> (or an exception saying
    /// the retries are exhausted), and goes to the dead-letter callback.
    /// </summary>
    /// <param name="index">The position of the job in the batch.</param>
    /// <param name="reason">Why the job must be retried; the awaiter gets it if no attempt is left.</param>
    /// <exception cref="InvalidOperationException">The job already has an outcome.</exception>
    public void Retry(int index, Exception? reason = null)
    {
        CheckUnset(index);
        Exceptions[index] = reason;
        HasExceptions = true;
        Statuses[index] = JobStatus.Retry;
    }

    /// <summary>Copies the jobs into a new array, for keeping beyond the handler or callback.</summary>
    /// <returns>The jobs, in the batch's order.</returns>
    public TJob[] ToArray()
    {
        var jobs = new TJob[Size];
        for (int i = 0; i < jobs.Length; i++)
        {
            jobs[i] = Entries[i].Job;
        }

        return jobs;
    }

    /// <summary>Returns an enumerator over the jobs.</summary>
    /// <returns>The enumerator.</returns>
    public IEnumerator<TJob> GetEnumerator()
    {
        for (int i = 0; i < Size; i++)
        {
            yield return Entries[i].Job;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal virtual void Reset()
    {
        Array.Clear(Entries, 0, Size);
        Array.Clear(Statuses, 0, Size);
        if (HasExceptions)
        {
            Array.Clear(Exceptions, 0, Size);
            HasExceptions = false;
        }

        Size = 0;
        Weight = 0;
        HandlerException = null;
        Finalized = 0;
        Id = 0;
        TimeoutSource = null;
        TimeoutTimer = null;
        Activity = null;
    }

    private protected void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Size)
        {
            ThrowHelper.ThrowIndexOutOfRange(index, Size);
        }
    }

    private protected void CheckUnset(int index)
    {
        CheckIndex(index);
        if (Statuses[index] != JobStatus.Pending)
        {
            ThrowHelper.ThrowOutcomeAlreadySet(index, Id, Statuses[index]);
        }
    }
}
