using System.Reflection;

namespace Tinybatch.Tests.TestSupport;

/// <summary>Finds the batcher's private lock objects, so a test can check that user code never runs while one is held.</summary>
internal static class InternalLocks
{
    public static IReadOnlyList<object> Of<TJob, TResult>(Batcher<TJob, TResult> batcher)
    {
        object[] locks =
        [
            .. typeof(Batcher<TJob, TResult>)
                .GetFields(BindingFlags.Instance | BindingFlags.NonPublic)
                .Where(f => f.FieldType == typeof(object))
                .Select(f => f.GetValue(batcher))
                .OfType<object>(),
        ];
        return locks;
    }

    public static bool AnyHeld(IReadOnlyList<object> locks) => locks.Any(Monitor.IsEntered);
}
