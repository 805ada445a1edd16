namespace Tinybatch.Tests.TestSupport;

/// <summary>Records every batch a handler receives (a copy of its jobs), thread-safely.</summary>
internal sealed class Recorder<TJob>
{
    private readonly object _gate = new();
    private readonly List<TJob[]> _batches = [];
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];

    public int BatchCount
    {
        get
        {
            lock (_gate)
            {
                return _batches.Count;
            }
        }
    }

    public IReadOnlyList<TJob[]> Batches
    {
        get
        {
            lock (_gate)
            {
                return [.. _batches];
            }
        }
    }

    public IReadOnlyList<TJob> AllJobs => [.. Batches.SelectMany(b => b)];

    public void Record(IEnumerable<TJob> jobs)
    {
        TJob[] copy = [.. jobs];
        lock (_gate)
        {
            _batches.Add(copy);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Count <= _batches.Count)
                {
                    _waiters[i].Signal.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>
    /// Completes once <paramref name="count"/> batches have been recorded. Unlike the idle hook, waiting on it does not
    /// wake the dispatch loop, so it proves that something else (a timer) did.
    /// </summary>
    public Task WhenBatchesAsync(int count, TimeSpan? guard = null)
    {
        lock (_gate)
        {
            if (_batches.Count >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
            return signal.Task.WaitAsync(guard ?? Guard.Timeout);
        }
    }

    /// <summary>A synchronous handler that records the batch and returns each job as its own result.</summary>
    public IReadOnlyList<TJob> Echo(IReadOnlyList<TJob> jobs, CancellationToken cancellationToken)
    {
        Record(jobs);
        return [.. jobs];
    }
}
