namespace Tinybatch;

/// <summary>The lifecycle of a batcher.</summary>
public enum BatcherState
{
    /// <summary>Built, not started: adds are buffered.</summary>
    Created = 0,

    /// <summary>Started: batches are dispatched.</summary>
    Running = 1,

    /// <summary>Stop requested: adds throw <see cref="BatcherStoppedException"/>; accepted jobs are draining.</summary>
    Stopping = 2,

    /// <summary>Stopped: every accepted job has an outcome.</summary>
    Stopped = 3,
}
