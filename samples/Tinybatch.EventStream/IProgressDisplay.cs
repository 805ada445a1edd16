namespace Tinybatch.EventStream;

/// <summary>Shows a run's progress while it lasts.</summary>
internal interface IProgressDisplay
{
    /// <summary>Shows progress until <paramref name="until"/> completes.</summary>
    /// <param name="read">Reads the batcher's counters.</param>
    /// <param name="total">The events expected, or <see langword="null"/> when unknown.</param>
    /// <param name="until">Completes when the run is over.</param>
    /// <returns>A task that completes after the last update.</returns>
    Task ShowAsync(Func<BatcherCounters> read, long? total, Task until);
}
