using System.Diagnostics;

namespace Tinybatch;

/// <summary>
/// The outcome of one key in a fetch that reports per-key outcomes: a value, or the exception that fails only the
/// callers of that key.
/// </summary>
/// <typeparam name="TValue">The value type.</typeparam>
/// <remarks>
/// Create one with <see cref="LoadResult.Success{TValue}"/>, <see cref="LoadResult.Failure{TValue}"/> or the implicit
/// conversion from a value. The default instance is a success with the default value.
/// </remarks>
[DebuggerDisplay("{IsSuccess ? \"Success\" : \"Failure\"}")]
public readonly struct LoadResult<TValue> : IEquatable<LoadResult<TValue>>
{
    private readonly TValue _value;

    internal LoadResult(TValue value, Exception? error)
    {
        _value = value;
        Error = error;
    }

    /// <summary>Gets a value indicating whether the key has a value.</summary>
    public bool IsSuccess => Error is null;

    /// <summary>Gets the exception of a failed key, or <see langword="null"/> for a success.</summary>
    public Exception? Error { get; }

    /// <summary>Gets the value of a successful key.</summary>
    /// <exception cref="InvalidOperationException">The key failed; the exception is the inner exception.</exception>
    public TValue Value => Error is null ? _value : throw new InvalidOperationException("The key failed: it has no value.", Error);

    /// <summary>Converts a value into a successful outcome.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator LoadResult<TValue>(TValue value) => new(value, null);

    /// <summary>Compares two outcomes.</summary>
    /// <param name="left">The first outcome.</param>
    /// <param name="right">The second outcome.</param>
    /// <returns><see langword="true"/> when both hold equal values or the same exception.</returns>
    public static bool operator ==(LoadResult<TValue> left, LoadResult<TValue> right) => left.Equals(right);

    /// <summary>Compares two outcomes.</summary>
    /// <param name="left">The first outcome.</param>
    /// <param name="right">The second outcome.</param>
    /// <returns><see langword="true"/> when they differ.</returns>
    public static bool operator !=(LoadResult<TValue> left, LoadResult<TValue> right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(LoadResult<TValue> other) =>
        ReferenceEquals(Error, other.Error) && EqualityComparer<TValue>.Default.Equals(_value, other._value);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is LoadResult<TValue> other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_value, Error);
}
