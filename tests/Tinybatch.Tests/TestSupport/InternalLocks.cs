namespace Tinybatch.Tests.TestSupport;

/// <summary>The batcher's internal lock objects (through its test hook), so a test can check that user code never runs while one is held.</summary>
internal static class InternalLocks
{
    public static IReadOnlyList<object> Of<TJob, TResult>(Batcher<TJob, TResult> batcher) => batcher.InternalLocks;

    public static bool AnyHeld(IReadOnlyList<object> locks) => locks.Any(Monitor.IsEntered);
}
