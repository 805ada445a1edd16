using System.Threading.Tasks.Sources;

namespace Tinybatch.Internal;

/// <summary>
/// Wakes a stream <c>Batch</c> operator that waits for two things at once: its pending read from the source, and its
/// batch's deadline. One reusable awaitable and one timer per enumeration, so a wait allocates nothing, and the pending
/// read is never abandoned: it stays watched across a yield and is taken up by the next batch.
/// </summary>
/// <remarks>
/// Wakes may be spurious or merged: the operator checks, after every wake, whether the read completed and how long its
/// batch has waited, and only then decides. Each waker publishes its reason before it signals, so none is lost.
/// A completed read continues the operator on the thread that completed it (as awaiting it would); a timer fire
/// continues it on the thread pool, so the consumer's code never runs inside a timer callback.
/// </remarks>
internal sealed class StreamWaker : IValueTaskSource, IDisposable
{
    private const int Idle = 0;
    private const int Waiting = 1;
    private const int Signaled = 2;
    private const long NotArmed = long.MinValue;

    private readonly TimeProvider _time;
    private readonly bool _systemClock;
    private readonly Action _wake;
    private ManualResetValueTaskSourceCore<bool> _core;
    private ITimer? _timer;
    private int _state;
    private int _timerFired;
    private long _armedFor = NotArmed;

    public StreamWaker(TimeProvider time)
    {
        _time = time;
        _systemClock = ReferenceEquals(time, TimeProvider.System);
        _wake = () => Signal(runAsynchronously: false);
    }

    /// <summary>Hangs the wake on a pending read: cached delegate, no allocation. Call once per read, then take its result once.</summary>
    public void Watch(ValueTask<bool> pending) => pending.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_wake);

    /// <summary>Completes at the next wake, or at once if one came since the last wait. One waiter at a time.</summary>
    public ValueTask WaitAsync()
    {
        if (Interlocked.CompareExchange(ref _state, Waiting, Idle) == Idle)
        {
            return new ValueTask(this, _core.Version);
        }

        // A wake came while nobody waited: consume it (any wake racing this one merges into it).
        Volatile.Write(ref _state, Idle);
        return default;
    }

    /// <summary>
    /// Arms the timer for the deadline of the batch that started at <paramref name="batchStart"/>, which is
    /// <paramref name="remaining"/> away, unless it is already armed for it. Due times beyond the system timer's limit are
    /// armed in steps: the early fire wakes the operator, which finds the batch not yet due and arms what is left.
    /// </summary>
    public void ArmFor(long batchStart, TimeSpan remaining)
    {
        if (Interlocked.Exchange(ref _timerFired, 0) == 0 && _armedFor == batchStart)
        {
            return;
        }

        _armedFor = batchStart;
        TimeSpan due = BatchTrigger.ForTimer(remaining);
        if (_systemClock)
        {
            // The system timer counts whole milliseconds: round up, so it does not fire just before the deadline.
            due = TimeSpan.FromTicks((due.Ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond * TimeSpan.TicksPerMillisecond);
        }

        (_timer ??= CreateTimer()).Change(due, Timeout.InfiniteTimeSpan);
    }

    public void Dispose() => _timer?.Dispose();

    void IValueTaskSource.GetResult(short token)
    {
        _core.GetResult(token);
        _core.Reset();
        Volatile.Write(ref _state, Idle);
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private ITimer CreateTimer()
    {
        // The callback only signals: it needs none of the consumer's execution context, and must not keep it alive.
        bool suppress = !ExecutionContext.IsFlowSuppressed();
        if (suppress)
        {
            ExecutionContext.SuppressFlow();
        }

        try
        {
            return _time.CreateTimer(static s => ((StreamWaker)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        finally
        {
            if (suppress)
            {
                ExecutionContext.RestoreFlow();
            }
        }
    }

    private void OnTimer()
    {
        Volatile.Write(ref _timerFired, 1);
        Signal(runAsynchronously: true);
    }

    private void Signal(bool runAsynchronously)
    {
        // Only the wake that finds the waiter waiting completes it; the others leave the state signalled.
        if (Interlocked.Exchange(ref _state, Signaled) == Waiting)
        {
            _core.RunContinuationsAsynchronously = runAsynchronously;
            _core.SetResult(true);
        }
    }
}
