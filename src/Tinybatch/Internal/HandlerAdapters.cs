namespace Tinybatch.Internal;

/// <summary>Turns the positional handler shapes (results by position) into the per-job outcome shape the loop runs.</summary>
internal static class HandlerAdapters
{
    public static Func<Batch<TJob, TResult>, CancellationToken, ValueTask> FromAsync<TJob, TResult>(
        Func<IReadOnlyList<TJob>, CancellationToken, ValueTask<IReadOnlyList<TResult>>> processBatch) =>
        (batch, cancellationToken) =>
        {
            ValueTask<IReadOnlyList<TResult>> pending = processBatch(batch, cancellationToken);
            if (pending.IsCompletedSuccessfully)
            {
                batch.SetResults(pending.Result);
                return default;
            }

            return AwaitResults(pending, batch);
        };

    public static Func<Batch<TJob, TResult>, CancellationToken, ValueTask> FromSync<TJob, TResult>(
        Func<IReadOnlyList<TJob>, CancellationToken, IReadOnlyList<TResult>> processBatch) =>
        (batch, cancellationToken) =>
        {
            batch.SetResults(processBatch(batch, cancellationToken));
            return default;
        };

    private static async ValueTask AwaitResults<TJob, TResult>(ValueTask<IReadOnlyList<TResult>> pending, Batch<TJob, TResult> batch) =>
        batch.SetResults(await pending.ConfigureAwait(false));
}
