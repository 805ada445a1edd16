namespace Tinybatch.Benchmarks.Implementations;

/// <summary>
/// One micro-batcher under test, built for one run: either fire-and-forget or request/response, never both, so each
/// implementation queues the smallest item its mode needs.
/// </summary>
/// <remarks>
/// Every implementation marks its add methods <c>NoInlining</c>: each pays the same call from the harness, and a
/// profile sees the add as its own frame instead of folded into the producer's loop (see <c>phases</c>).
/// </remarks>
internal interface IBatchingImplementation : IAsyncDisposable
{
    /// <summary>Gets the name printed in the tables.</summary>
    string Name { get; }

    /// <summary>Gets how many adds found the buffer full and had to wait (only Tinybatch has a bounded buffer).</summary>
    long FullWaits { get; }

    /// <summary>Adds a fire-and-forget item; completes synchronously unless the implementation must wait for space.</summary>
    ValueTask AddAsync(long id);

    /// <summary>
    /// Adds fire-and-forget items in one call through the implementation's bulk add, or one by one where it has none.
    /// Called from a dedicated producer thread, which it may block while waiting for space.
    /// </summary>
    void AddRange(ReadOnlySpan<long> ids);

    /// <summary>Adds an item and completes with the handler's result for it (the id itself).</summary>
    ValueTask<long> AddAndWaitAsync(long id);

    /// <summary>Stops accepting and completes when every accepted item has reached the handler.</summary>
    Task CompleteAsync();
}
