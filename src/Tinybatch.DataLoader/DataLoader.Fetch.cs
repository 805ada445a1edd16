using Tinybatch.Loading.Internal;

namespace Tinybatch;

/// <summary>The fetch shapes: one constructor each.</summary>
public sealed partial class DataLoader<TKey, TValue>
{
    /// <summary>Creates a loader whose fetch returns a dictionary of values by key.</summary>
    /// <param name="fetch">
    /// Receives the distinct keys of a batch, in first-request order, and returns their values by key. A key missing
    /// from the answer fails <see cref="LoadAsync"/> with a <see cref="KeyNotFoundException"/> naming it, and gives
    /// <see langword="default"/> to <see cref="LoadOrDefaultAsync"/>; extra keys are ignored. The answer is read with
    /// its own comparer. An exception fails every key of the batch.
    /// </param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fetch"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public DataLoader(
        Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IReadOnlyDictionary<TKey, TValue>>> fetch,
        DataLoaderOptions<TKey>? options = null)
        : this(FetchShapes.ByKey(fetch ?? throw new ArgumentNullException(nameof(fetch))), options)
    {
    }

    /// <summary>Creates a loader whose fetch returns one value per key, by position.</summary>
    /// <param name="fetch">
    /// Receives the distinct keys of a batch, in first-request order, and returns their values in the same order:
    /// value <c>i</c> for key <c>i</c>. A list of another length fails every key of the batch.
    /// </param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fetch"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public DataLoader(
        Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IReadOnlyList<TValue>>> fetch,
        DataLoaderOptions<TKey>? options = null)
        : this(FetchShapes.ByPosition(fetch ?? throw new ArgumentNullException(nameof(fetch))), options)
    {
    }

    /// <summary>Creates a loader whose fetch reports each key's outcome by key: a value or an error for that key alone.</summary>
    /// <param name="fetch">
    /// Receives the distinct keys of a batch, in first-request order, and returns an outcome per key. A failed key fails
    /// only its callers and is not cached. A key missing from the answer is treated as by the dictionary shape.
    /// </param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fetch"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public DataLoader(
        Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IReadOnlyDictionary<TKey, LoadResult<TValue>>>> fetch,
        DataLoaderOptions<TKey>? options = null)
        : this(FetchShapes.ResultsByKey(fetch ?? throw new ArgumentNullException(nameof(fetch))), options)
    {
    }

    /// <summary>Creates a loader whose fetch reports each key's outcome by position: a value or an error for that key alone.</summary>
    /// <param name="fetch">
    /// Receives the distinct keys of a batch, in first-request order, and returns one outcome per key in the same
    /// order: outcome <c>i</c> for key <c>i</c>. A failed key fails only its callers and is not cached. A list of
    /// another length fails every key of the batch.
    /// </param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fetch"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public DataLoader(
        Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IReadOnlyList<LoadResult<TValue>>>> fetch,
        DataLoaderOptions<TKey>? options = null)
        : this(FetchShapes.ResultsByPosition(fetch ?? throw new ArgumentNullException(nameof(fetch))), options)
    {
    }
}
