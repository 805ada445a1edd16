namespace Tinybatch;

/// <summary>
/// The exception of a job dropped by the <see cref="OverflowPolicy.DropOldest"/> or
/// <see cref="OverflowPolicy.DropWrite"/> policy.
/// </summary>
public class JobDroppedException : Exception
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public JobDroppedException()
        : base("The job was dropped because the batcher's buffer was full.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public JobDroppedException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public JobDroppedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
