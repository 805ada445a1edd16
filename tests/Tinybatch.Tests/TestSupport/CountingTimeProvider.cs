using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.Tests.TestSupport;

/// <summary>A fake clock that counts the timers created through it, and how many of them were disposed.</summary>
internal sealed class CountingTimeProvider : FakeTimeProvider
{
    private int _timersCreated;
    private int _timersDisposed;

    public int TimersCreated => Volatile.Read(ref _timersCreated);

    /// <summary>Timers created and not yet disposed: each keeps its callback and state reachable from the clock.</summary>
    public int TimersAlive => Volatile.Read(ref _timersCreated) - Volatile.Read(ref _timersDisposed);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref _timersCreated);
        return new TrackedTimer(this, base.CreateTimer(callback, state, dueTime, period));
    }

    private sealed class TrackedTimer(CountingTimeProvider owner, ITimer inner) : ITimer
    {
        private int _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(dueTime, period);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Increment(ref owner._timersDisposed);
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
