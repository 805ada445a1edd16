namespace Tinybatch.Internal;

/// <summary>
/// A one-shot timer for any due time, <see cref="TimeSpan.MaxValue"/> included: system timers refuse due times above
/// about 49.7 days, so it is armed in steps (<see cref="BatchTrigger.ForTimer"/>) and fires its callback only once the
/// whole due time has elapsed on its <see cref="TimeProvider"/>. The callback must not throw.
/// </summary>
internal sealed class LongTimer : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Action<object?> _callback;
    private readonly object? _state;
    private readonly long _start;
    private readonly TimeSpan _dueTime;
    private readonly ITimer _timer;
    private int _done;

    public LongTimer(TimeProvider time, TimeSpan dueTime, Action<object?> callback, object? state)
    {
        _time = time;
        _callback = callback;
        _state = state;
        _dueTime = dueTime;
        _start = time.GetTimestamp();
        using (ExecutionContext.SuppressFlow())
        {
            _timer = time.CreateTimer(static s => ((LongTimer)s!).OnTick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        _timer.Change(BatchTrigger.ForTimer(dueTime), Timeout.InfiniteTimeSpan);
    }

    public void Dispose()
    {
        Volatile.Write(ref _done, 1);
        _timer.Dispose();
    }

    private void OnTick()
    {
        if (Volatile.Read(ref _done) != 0)
        {
            return;
        }

        TimeSpan elapsed = _time.GetElapsedTime(_start);
        if (elapsed < _dueTime)
        {
            // A step of a long due time, or a timer that fired early: arm it for what is left.
            _timer.Change(BatchTrigger.ForTimer(_dueTime - elapsed), Timeout.InfiniteTimeSpan);
            return;
        }

        if (Interlocked.Exchange(ref _done, 1) == 0)
        {
            _timer.Dispose();
            _callback(_state);
        }
    }
}
