namespace Tinybatch;

/// <summary>Thrown by an add when the buffer is full and the overflow policy is <see cref="OverflowPolicy.Reject"/>.</summary>
public class BatcherFullException : InvalidOperationException
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public BatcherFullException()
        : base("The batcher's buffer is full: the job was rejected.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public BatcherFullException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public BatcherFullException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
