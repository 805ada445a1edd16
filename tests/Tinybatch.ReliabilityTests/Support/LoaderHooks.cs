using System.Reflection;

namespace Tinybatch.ReliabilityTests.Support;

/// <summary>
/// The data loader's internal test hook (its <c>Batcher</c> and that batcher's <c>WhenIdleAsync</c>), reached by name:
/// the loader's assembly grants its internals to its own test project only. With <c>InternalsVisibleTo</c> for this
/// project the calls become direct. Fails loudly if the hook is renamed.
/// </summary>
internal static class LoaderHooks
{
    public static Task WhenIdleAsync<TKey, TValue>(DataLoader<TKey, TValue> loader)
        where TKey : notnull
    {
        object batcher = typeof(DataLoader<TKey, TValue>).GetProperty("Batcher", BindingFlags.NonPublic | BindingFlags.Instance)?.GetValue(loader)
            ?? throw new InvalidOperationException("DataLoader has no internal property Batcher: update LoaderHooks.");
        MethodInfo idle = batcher.GetType().GetMethod("WhenIdleAsync", BindingFlags.NonPublic | BindingFlags.Instance)
            ?? throw new InvalidOperationException("Batcher has no internal method WhenIdleAsync: update LoaderHooks.");
        return (Task)idle.Invoke(batcher, null)!;
    }
}
