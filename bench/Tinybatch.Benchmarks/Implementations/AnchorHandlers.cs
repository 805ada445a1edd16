namespace Tinybatch.Benchmarks.Implementations;

/// <summary>The trivial handler bodies the anchors share, the same work Tinybatch's handler does.</summary>
internal static class AnchorHandlers
{
    public static SpanHandler<long> FireAndForget(BatchSink sink) => items =>
    {
        long now = sink.BeginBatch();
        foreach (long id in items)
        {
            sink.OnItem(id, now);
        }

        sink.EndBatch(items.Length);
    };

    /// <summary>Completes each request's promise with its id, as a batch handler returning results would.</summary>
    public static SpanHandler<Request> Requests(BatchSink sink) => items =>
    {
        long now = sink.BeginBatch();
        foreach (Request request in items)
        {
            sink.OnItem(request.Id, now);
            request.Promise.TrySetResult(request.Id);
        }

        sink.EndBatch(items.Length);
    };

    /// <summary>A promise whose continuation runs on the thread pool, not inline in the handler (the usual advice).</summary>
    public static TaskCompletionSource<long> NewPromise() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
