namespace Tinybatch;

/// <summary>
/// A keyed loader whose keys each load to a list of values (one-to-many, such as an author's posts), coalescing
/// single lookups into batched fetches: what application code depends on (and mocks).
/// <see cref="GroupedDataLoader{TKey, TValue}"/> implements it.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The type of each value of a key.</typeparam>
public interface IGroupedDataLoader<TKey, TValue>
    where TKey : notnull
{
    /// <summary>
    /// Loads the values of <paramref name="key"/>: from the cache, by joining a fetch of the same key already
    /// requested, or through the next batch.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">
    /// Cancels this caller's wait only. Other callers of the same key keep waiting; if every caller of the key cancels
    /// before its batch is fetched, the key is left out of the batch.
    /// </param>
    /// <returns>The key's values, in the order the fetch gave them; an empty list for a key without values.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="BatcherStoppedException">The loader was disposed.</exception>
    /// <remarks>
    /// Any exception of the fetch, the per-key error it reported, or an exception of the key's hashing or the key
    /// comparer fails the load with that exception.
    /// </remarks>
    Task<IReadOnlyList<TValue>> LoadAsync(TKey key, CancellationToken cancellationToken = default);

    /// <summary>Loads the values of several keys, all through the same batches, and returns them in the keys' order.</summary>
    /// <param name="keys">The keys; duplicates are allowed and fetched once.</param>
    /// <param name="cancellationToken">Cancels this caller's wait, as for <see cref="LoadAsync"/>.</param>
    /// <returns>One list per key, in the order of <paramref name="keys"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="keys"/> or one of its keys is null.</exception>
    /// <exception cref="AggregateException">
    /// At least one key failed: one <see cref="KeyLoadException"/> per failed key, naming it and its position, whose
    /// inner exception is what failed that key.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    Task<IReadOnlyList<IReadOnlyList<TValue>>> LoadManyAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default);

    /// <summary>
    /// Puts a key's values in the cache, so that loading <paramref name="key"/> returns them without a fetch. It does
    /// not overwrite: if the key is cached or a fetch of it is already requested, nothing changes.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="values">The key's values.</param>
    /// <returns><see langword="true"/> if the values were added; <see langword="false"/> if the key had an entry or the cache is off.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="values"/> is null.</exception>
    bool Prime(TKey key, IReadOnlyList<TValue> values);

    /// <summary>Forgets the cached values of <paramref name="key"/>, as <see cref="IDataLoader{TKey, TValue}.Clear"/> does.</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> if cached values or a running fetch were forgotten.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    bool Clear(TKey key);

    /// <summary>Forgets every cached key and every running fetch.</summary>
    void ClearAll();
}
