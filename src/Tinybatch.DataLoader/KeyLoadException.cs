namespace Tinybatch;

/// <summary>
/// One failed key of <see cref="DataLoader{TKey, TValue}.LoadManyAsync"/>: it names the key, and its inner exception
/// is what failed that key. LoadManyAsync throws an <see cref="AggregateException"/> with one of these per failed key.
/// </summary>
public class KeyLoadException : Exception
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public KeyLoadException()
        : base("Loading a key failed.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public KeyLoadException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the exception that failed the key.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception that failed the key.</param>
    public KeyLoadException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the key that failed.</summary>
    public object? Key { get; init; }

    /// <summary>Gets the position of the key in the list given to LoadManyAsync.</summary>
    public int Index { get; init; }
}
