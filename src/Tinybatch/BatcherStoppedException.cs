namespace Tinybatch;

/// <summary>
/// Thrown by every add once the batcher is stopping or stopped, or its lifetime token is cancelled; also the
/// exception of jobs still pending or in flight when a stop deadline expires.
/// </summary>
public class BatcherStoppedException : InvalidOperationException
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public BatcherStoppedException()
        : base("The batcher is stopped: it accepts no more jobs.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public BatcherStoppedException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public BatcherStoppedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
