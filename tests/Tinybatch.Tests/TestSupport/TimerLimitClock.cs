using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.Tests.TestSupport;

/// <summary>
/// A fake clock whose timers refuse due times a system timer refuses (more than <c>uint.MaxValue - 1</c> ms, about
/// 49.7 days), so a test sees whether code arms long delays in steps. It counts live timers and the due times asked.
/// </summary>
internal sealed class TimerLimitClock : FakeTimeProvider
{
    private static readonly TimeSpan Limit = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);
    private int _alive;

    public int TimersAlive => Volatile.Read(ref _alive);

    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];

    public List<TimeSpan> DueTimes { get; } = [];

    /// <summary>Completes once timers have been armed <paramref name="count"/> times in all (a wake on the pool may arm one).</summary>
    public Task WhenArmedAsync(int count)
    {
        lock (DueTimes)
        {
            if (DueTimes.Count >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
            return signal.Task;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Check(dueTime);
        Interlocked.Increment(ref _alive);
        return new LimitedTimer(this, base.CreateTimer(callback, state, dueTime, period));
    }

    private void Check(TimeSpan dueTime)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dueTime, Limit);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            lock (DueTimes)
            {
                DueTimes.Add(dueTime);
                foreach ((int count, TaskCompletionSource signal) in _waiters.Where(w => w.Count <= DueTimes.Count))
                {
                    signal.TrySetResult();
                }
            }
        }
    }

    private sealed class LimitedTimer(TimerLimitClock owner, ITimer inner) : ITimer
    {
        private int _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            owner.Check(dueTime);
            return inner.Change(dueTime, period);
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._alive);
            }

            inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }
    }
}
