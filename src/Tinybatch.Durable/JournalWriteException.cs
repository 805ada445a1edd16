namespace Tinybatch.Durable;

/// <summary>
/// The journal could not write a commit (for example, the disk is full): the jobs it covered were not accepted.
/// </summary>
public sealed class JournalWriteException : IOException
{
    /// <summary>Initializes a new instance.</summary>
    public JournalWriteException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public JournalWriteException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the exception behind it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception behind it.</param>
    public JournalWriteException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
