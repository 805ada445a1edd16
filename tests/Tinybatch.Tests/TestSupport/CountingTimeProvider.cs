using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.Tests.TestSupport;

/// <summary>
/// A fake clock that counts its timestamp reads, the timers created through it and how many of them were disposed, and
/// can make its armed timers fire before their due time (as a real timer may, a little).
/// </summary>
internal sealed class CountingTimeProvider : FakeTimeProvider
{
    private readonly List<TrackedTimer> _timers = [];
    private int _timersCreated;
    private int _timersDisposed;
    private long _timestampReads;

    public int TimersCreated => Volatile.Read(ref _timersCreated);

    /// <summary>How many times <see cref="GetTimestamp"/> was called.</summary>
    public long TimestampReads => Interlocked.Read(ref _timestampReads);

    /// <summary>Timers created and not yet disposed: each keeps its callback and state reachable from the clock.</summary>
    public int TimersAlive => Volatile.Read(ref _timersCreated) - Volatile.Read(ref _timersDisposed);

    public override long GetTimestamp()
    {
        Interlocked.Increment(ref _timestampReads);
        return base.GetTimestamp();
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref _timersCreated);
        var timer = new TrackedTimer(this, callback, state, dueTime);
        timer.Inner = base.CreateTimer(static t => ((TrackedTimer)t!).Fire(), timer, dueTime, period);
        lock (_timers)
        {
            _timers.Add(timer);
        }

        return timer;
    }

    /// <summary>
    /// Fires every armed one-shot timer now, before the clock reaches its due time, and disarms it: the timer has
    /// fired, and only a new <see cref="ITimer.Change"/> arms it again. Returns how many fired.
    /// </summary>
    public int FireArmedTimersEarly()
    {
        TrackedTimer[] armed;
        lock (_timers)
        {
            armed = [.. _timers.Where(t => t.Armed)];
        }

        foreach (TrackedTimer timer in armed)
        {
            timer.FireEarly();
        }

        return armed.Length;
    }

    private sealed class TrackedTimer(CountingTimeProvider owner, TimerCallback callback, object? state, TimeSpan dueTime) : ITimer
    {
        private int _disposed;

        public ITimer Inner { get; set; } = null!;

        public bool Armed { get; private set; } = dueTime != Timeout.InfiniteTimeSpan;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Armed = dueTime != Timeout.InfiniteTimeSpan && Volatile.Read(ref _disposed) == 0;
            return Inner.Change(dueTime, period);
        }

        public void FireEarly()
        {
            Inner.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            Fire();
        }

        /// <summary>The batcher's timers are one-shot: once fired, a timer is disarmed until changed again.</summary>
        public void Fire()
        {
            Armed = false;
            callback(state);
        }

        public void Dispose()
        {
            Armed = false;
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Increment(ref owner._timersDisposed);
            }

            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }
    }
}
