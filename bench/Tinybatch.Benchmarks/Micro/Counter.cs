namespace Tinybatch.Benchmarks.Micro;

/// <summary>Counts handled items and completes a task once a target is reached; one consumer at a time.</summary>
internal sealed class Counter
{
    private long _count;
    private long _target = long.MaxValue;
    private TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Returns a task that completes once <paramref name="more"/> further items have been handled.</summary>
    public Task Expect(long more)
    {
        _reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _target, Volatile.Read(ref _count) + more);
        return _reached.Task;
    }

    public void Add(int items)
    {
        long count = Interlocked.Add(ref _count, items);
        if (count >= Volatile.Read(ref _target))
        {
            _reached.TrySetResult();
        }
    }
}
