namespace Tinybatch.EventStream;

/// <summary>Where the events come from: the generator or an NDJSON stream.</summary>
internal interface IEventSource
{
    /// <summary>Gets how many events the source holds, or <see langword="null"/> when unknown in advance (stdin).</summary>
    long? Count { get; }

    /// <summary>Gets a one-line description for the demo's header.</summary>
    string Description { get; }

    /// <summary>Gets a value indicating whether <see cref="Replay"/> can read the events again.</summary>
    bool CanReplay { get; }

    /// <summary>
    /// Hands every event to <paramref name="add"/>, with ids 1, 2, 3 and so on, each id exactly once, until the source
    /// is exhausted or <paramref name="stop"/> fires. An add that has begun is always finished, so the events handed
    /// over are exactly ids 1 to the number of adds.
    /// </summary>
    /// <param name="add">Accepts one event (the batcher's fire-and-forget add).</param>
    /// <param name="stop">Stops intake (Ctrl+C).</param>
    /// <returns>A task that completes when intake is over.</returns>
    Task ProduceAsync(Func<StreamEvent, ValueTask> add, CancellationToken stop);

    /// <summary>Reads the same events again, in id order (for the per-row baseline of <c>--compare</c>).</summary>
    /// <returns>The events.</returns>
    IEnumerable<StreamEvent> Replay();
}
