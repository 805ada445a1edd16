using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.Tests.TestSupport;

/// <summary>A fake clock that counts the timers created through it.</summary>
internal sealed class CountingTimeProvider : FakeTimeProvider
{
    private int _timersCreated;

    public int TimersCreated => Volatile.Read(ref _timersCreated);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref _timersCreated);
        return base.CreateTimer(callback, state, dueTime, period);
    }
}
