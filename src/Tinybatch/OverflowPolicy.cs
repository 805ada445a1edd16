namespace Tinybatch;

/// <summary>What an add does when the bounded buffer (<see cref="BatcherOptions.Capacity"/>) is full.</summary>
/// <remarks>
/// Whatever the policy, <see cref="Batcher{TJob, TResult}.TryAdd(TJob)"/> never waits. Nothing is dropped silently:
/// every rejected or dropped job is counted in <see cref="BatcherCounters"/>, its awaiter (if any) gets an exception,
/// and the dead-letter callback (<see cref="BatcherOptions{TJob, TResult}.OnDeadLetter"/>) receives it.
/// </remarks>
public enum OverflowPolicy
{
    /// <summary>Asynchronous adds wait for space (backpressure). <c>TryAdd</c> returns <see langword="false"/>.</summary>
    Wait = 0,

    /// <summary>Adds fail at once with <see cref="BatcherFullException"/>; <c>TryAdd</c> returns <see langword="false"/>.</summary>
    Reject = 1,

    /// <summary>
    /// The oldest job still waiting in the buffer is dropped to make room for the new one; its awaiter gets
    /// <see cref="JobDroppedException"/>. When no queued job can be evicted the new job is dropped instead.
    /// </summary>
    DropOldest = 2,

    /// <summary>
    /// The job being added is dropped, as <see cref="System.Threading.Channels.BoundedChannelFullMode.DropWrite"/> does:
    /// <c>AddAsync</c> returns normally, <c>AddAndWaitAsync</c>'s awaiter gets <see cref="JobDroppedException"/>.
    /// </summary>
    DropWrite = 3,
}
