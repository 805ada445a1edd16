namespace Tinybatch;

/// <summary>Creates <see cref="LoadResult{TValue}"/> outcomes for a fetch that reports each key's outcome.</summary>
public static class LoadResult
{
    /// <summary>Creates a successful outcome.</summary>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <param name="value">The key's value.</param>
    /// <returns>The outcome.</returns>
    public static LoadResult<TValue> Success<TValue>(TValue value) => new(value, null);

    /// <summary>Creates a failed outcome: the callers of this key get <paramref name="error"/>, and the key is not cached.</summary>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <param name="error">The exception.</param>
    /// <returns>The outcome.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="error"/> is null.</exception>
    public static LoadResult<TValue> Failure<TValue>(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new(default!, error);
    }
}
