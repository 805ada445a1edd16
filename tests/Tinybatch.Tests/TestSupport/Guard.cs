namespace Tinybatch.Tests.TestSupport;

/// <summary>Real-time hang guards: a test that waits for a signal fails after <see cref="HangGuard.Timeout"/> instead of hanging the run.</summary>
internal static class Guard
{
    public static readonly TimeSpan Timeout = HangGuard.Timeout;

    public static Task Guarded(this Task task) => task.WaitAsync(Timeout);

    public static Task<T> Guarded<T>(this Task<T> task) => task.WaitAsync(Timeout);

    public static Task Guarded(this ValueTask task) => task.AsTask().WaitAsync(Timeout);

    public static Task<T> Guarded<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Timeout);

    /// <summary>Waits until the dispatch loop sleeps with no batch in flight (the internal test hook).</summary>
    public static Task IdleAsync<TJob, TResult>(this Batcher<TJob, TResult> batcher) => batcher.WhenIdleAsync().Guarded();
}
