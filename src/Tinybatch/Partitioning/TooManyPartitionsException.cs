namespace Tinybatch.Partitioning;

/// <summary>
/// Thrown by an add whose key would create a partition beyond <see cref="PartitionedBatcherOptions{TKey, TJob, TResult}.MaxPartitions"/>.
/// The job was not accepted; the refusal is counted in <see cref="BatcherCounters.Rejected"/>.
/// </summary>
public class TooManyPartitionsException : InvalidOperationException
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public TooManyPartitionsException()
        : base("The partitioned batcher has reached its limit of live partitions.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public TooManyPartitionsException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public TooManyPartitionsException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the limit that was reached.</summary>
    public int MaxPartitions { get; init; }
}
