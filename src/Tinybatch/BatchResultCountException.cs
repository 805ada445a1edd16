namespace Tinybatch;

/// <summary>
/// The exception of every job of a batch whose handler returned a null result list, or a list whose count differs
/// from the number of jobs.
/// </summary>
public class BatchResultCountException : InvalidOperationException
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public BatchResultCountException()
        : base("The batch handler returned the wrong number of results.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public BatchResultCountException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public BatchResultCountException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the id of the batch.</summary>
    public long BatchId { get; init; }

    /// <summary>Gets the number of jobs in the batch.</summary>
    public int Expected { get; init; }

    /// <summary>Gets the number of results returned, or -1 for a null list.</summary>
    public int Actual { get; init; }
}
