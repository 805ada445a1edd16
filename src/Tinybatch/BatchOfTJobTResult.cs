using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Tinybatch;

/// <summary>
/// One dispatched batch of a <see cref="Batcher{TJob, TResult}"/>: its jobs, in FIFO order, and their outcomes. A handler
/// reports per-job outcomes with <see cref="SetResult"/>, <see cref="Batch{TJob}.Fail"/> and
/// <see cref="Batch{TJob}.Retry"/>, or all results by position with <see cref="SetResults"/>. A job left without an
/// outcome when the handler returns fails.
/// </summary>
/// <remarks>
/// Batch objects are pooled: a batch is valid only while its handler or completion callback runs. Copy what you keep
/// (<see cref="Batch{TJob}.ToArray"/>). Reporting outcomes is safe from any one thread at a time.
/// </remarks>
/// <typeparam name="TJob">The job type.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
[DebuggerDisplay("Batch {Id}: Count = {Count}")]
public sealed class Batch<TJob, TResult> : Batch<TJob>
{
    internal TResult?[] Results;

    internal Batch(int capacity)
        : base(capacity)
    {
        Results = new TResult?[capacity];
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

    /// <summary>Reports every job's result by position: result <c>i</c> belongs to job <c>i</c>.</summary>
    /// <param name="results">One result per job, in the batch's order.</param>
    /// <exception cref="BatchResultCountException">The list is null or its count differs from <see cref="Batch{TJob}.Count"/>.</exception>
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

    internal override void Reset()
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TResult>())
        {
            Array.Clear(Results, 0, Size);
        }

        base.Reset();
    }
}
