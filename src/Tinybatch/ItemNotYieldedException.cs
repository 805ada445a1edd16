namespace Tinybatch;

/// <summary>
/// Thrown by <c>DisposeAsync</c> of an enumerator of
/// <see cref="AsyncEnumerableBatchExtensions.Batch{T}(IAsyncEnumerable{T}, int, TimeSpan, TimeProvider?)"/> when the
/// source delivered an item after the enumerator was disposed and had asked the source to stop: the item was read from
/// the source, too late to be yielded, and is handed back here (<see cref="Item"/>) rather than dropped.
/// </summary>
/// <remarks>
/// It can only happen when a batch went out on time while the source's <c>MoveNextAsync</c> was still pending, and the
/// source then produced an item in spite of its cancellation token (or at the moment it was cancelled).
/// </remarks>
public class ItemNotYieldedException : InvalidOperationException
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public ItemNotYieldedException()
        : base("The source delivered an item after the batch enumerator was disposed; it was not yielded.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public ItemNotYieldedException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause, or an error met while disposing the source as well.</param>
    public ItemNotYieldedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the item the source delivered and the enumerator could no longer yield.</summary>
    public object? Item { get; init; }
}
