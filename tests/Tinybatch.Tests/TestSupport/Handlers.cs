namespace Tinybatch.Tests.TestSupport;

/// <summary>Typed handler factories, for lambdas the compiler cannot match to one constructor on its own.</summary>
internal static class Handlers
{
    /// <summary>A synchronous handler that throws <paramref name="exception"/> on every call.</summary>
    public static Func<IReadOnlyList<TJob>, CancellationToken, IReadOnlyList<TResult>> Throwing<TJob, TResult>(Exception exception) =>
        (jobs, ct) => throw exception;

    /// <summary>A synchronous handler, typed explicitly.</summary>
    public static Func<IReadOnlyList<TJob>, CancellationToken, IReadOnlyList<TResult>> Sync<TJob, TResult>(
        Func<IReadOnlyList<TJob>, CancellationToken, IReadOnlyList<TResult>> handler) => handler;

    /// <summary>A per-job-outcome handler, typed explicitly.</summary>
    public static Func<Batch<TJob, TResult>, CancellationToken, ValueTask> PerJob<TJob, TResult>(
        Func<Batch<TJob, TResult>, CancellationToken, ValueTask> handler) => handler;
}
