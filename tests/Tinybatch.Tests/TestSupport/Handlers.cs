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

    /// <summary>
    /// An echo handler that records every batch and holds the first one at <paramref name="gate"/> until it opens, to keep
    /// the only handler slot busy while a test adds more jobs.
    /// </summary>
    public static Func<IReadOnlyList<int>, CancellationToken, ValueTask<IReadOnlyList<int>>> HoldFirstBatch(Recorder<int> recorder, HandlerGate gate) =>
        async (jobs, ct) =>
        {
            recorder.Record(jobs);
            if (recorder.BatchCount == 1)
            {
                await gate.PassAsync();
            }

            return jobs;
        };
}
