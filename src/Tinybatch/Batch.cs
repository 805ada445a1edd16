using System.Collections;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Tinybatch.Internal;

namespace Tinybatch;

/// <summary>
/// One dispatched batch: its jobs, in FIFO order, and their outcomes. A handler reports per-job outcomes with
/// <see cref="SetResult"/>, <see cref="SetException"/> and <see cref="Retry"/>, or all results by position with
/// <see cref="SetResults"/>.
/// </summary>
/// <remarks>
/// Batch objects are pooled: a batch is valid only while its handler or completion callback runs. Copy what you keep
/// (<see cref="ToArray"/>). Reporting outcomes is safe from any one thread at a time.
/// </remarks>
/// <typeparam name="TJob">The job type.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
[DebuggerDisplay("Batch {Id}: Count = {Count}")]
public sealed class Batch<TJob, TResult> : IReadOnlyList<TJob>
{
    internal JobEntry<TJob, TResult>[] Entries;
    internal JobStatus[] Statuses;
    internal TResult?[] Results;
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
    internal System.Diagnostics.Activity? Activity;

    internal Batch(int capacity)
    {
        Entries = new JobEntry<TJob, TResult>[capacity];
        Statuses = new JobStatus[capacity];
        Results = new TResult?[capacity];
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

    /// <summary>Gets the outcome reported for the job at <paramref name="index"/> so far.</summary>
    /// <param name="index">The position of the job in the batch.</param>
    /// <returns>The outcome.</returns>
    public JobOutcome<TResult> GetOutcome(int index)
    {
        CheckIndex(index);
        return new JobOutcome<TResult>(Statuses[index], Results[index], Exceptions[index]);
    }

    /// <summary>Reports that the job at <paramref name="index"/> succeeded with <paramref name="result"/>.</summary>
    /// <param name="index">The position of the job in the batch.</param>
    /// <param name="result">The job's result.</param>
    /// <exception cref="InvalidOperationException">The job already has an outcome.</exception>
    public void SetResult(int index, TResult result)
    {
        CheckUnset(index);
        Results[index] = result;
        Statuses[index] = JobStatus.Succeeded;
    }

    /// <summary>Reports that the job at <paramref name="index"/> failed with <paramref name="exception"/>.</summary>
    /// <param name="index">The position of the job in the batch.</param>
    /// <param name="exception">The exception its awaiter gets.</param>
    /// <exception cref="InvalidOperationException">The job already has an outcome.</exception>
    public void SetException(int index, Exception exception)
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

    /// <summary>Reports every job's result by position: result <c>i</c> belongs to job <c>i</c>.</summary>
    /// <param name="results">One result per job, in the batch's order.</param>
    /// <exception cref="BatchResultCountException">The list is null or its count differs from <see cref="Count"/>.</exception>
    public void SetResults(IReadOnlyList<TResult>? results)
    {
        if (results is null || results.Count != Size)
        {
            int actual = results?.Count ?? -1;
            throw new BatchResultCountException(
                results is null
                    ? $"The handler of batch {Id} returned a null result list; expected {Size} results, one per job."
                    : $"The handler of batch {Id} returned {actual} results for {Size} jobs; expected exactly {Size}, result i for job i.")
            {
                BatchId = Id,
                Expected = Size,
                Actual = actual,
            };
        }

        for (int i = 0; i < Size; i++)
        {
            if (Statuses[i] == JobStatus.Pending)
            {
                Results[i] = results[i];
                Statuses[i] = JobStatus.Succeeded;
            }
        }
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

    internal void Reset()
    {
        Array.Clear(Entries, 0, Size);
        Array.Clear(Statuses, 0, Size);
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TResult>())
        {
            Array.Clear(Results, 0, Size);
        }

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

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Size)
        {
            ThrowHelper.ThrowIndexOutOfRange(index, Size);
        }
    }

    private void CheckUnset(int index)
    {
        CheckIndex(index);
        if (Statuses[index] != JobStatus.Pending)
        {
            ThrowHelper.ThrowOutcomeAlreadySet(index, Id, Statuses[index]);
        }
    }
}
