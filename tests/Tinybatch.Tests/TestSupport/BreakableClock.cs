using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.Tests.TestSupport;

/// <summary>A fake clock that throws once broken: a stand-in for a defect in user code the batcher calls.</summary>
internal sealed class BreakableClock : FakeTimeProvider
{
    public InvalidOperationException Thrown { get; } = new("the clock is broken");

    public bool Broken { get; set; }

    public override long GetTimestamp() => Broken ? throw Thrown : base.GetTimestamp();
}
