namespace Tinybatch;

/// <summary>
/// A keyed loader that coalesces single lookups into batched fetches, one value per key: what application code
/// depends on (and mocks). <see cref="DataLoader{TKey, TValue}"/> implements it.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TValue">The value type.</typeparam>
public interface IDataLoader<TKey, TValue>
    where TKey : notnull
{
    /// <summary>
    /// Loads the value of <paramref name="key"/>: from the cache, by joining a fetch of the same key already requested,
    /// or through the next batch.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">
    /// Cancels this caller's wait only. Other callers of the same key keep waiting; if every caller of the key cancels
    /// before its batch is fetched, the key is left out of the batch.
    /// </param>
    /// <returns>The key's value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="KeyNotFoundException">The fetch's answer had no entry for the key.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="BatcherStoppedException">The loader was disposed.</exception>
    /// <remarks>
    /// Any exception of the fetch, the per-key error it reported, or an exception of the key's hashing or the key
    /// comparer fails the load with that exception.
    /// </remarks>
    Task<TValue> LoadAsync(TKey key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Loads the value of <paramref name="key"/> as <see cref="LoadAsync"/> does, but returns <see langword="default"/>
    /// when the fetch's answer has no entry for the key, instead of throwing <see cref="KeyNotFoundException"/>.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels this caller's wait only, as for <see cref="LoadAsync"/>.</param>
    /// <returns>The key's value, or <see langword="default"/> (null for a reference type) when the source has none.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="BatcherStoppedException">The loader was disposed.</exception>
    /// <remarks>
    /// Only a key absent from a dictionary answer counts as missing. A failure the fetch reported for the key, even a
    /// <see cref="KeyNotFoundException"/>, still fails the load.
    /// </remarks>
    Task<TValue?> LoadOrDefaultAsync(TKey key, CancellationToken cancellationToken = default);

    /// <summary>Loads the values of several keys, all through the same batches, and returns them in the keys' order.</summary>
    /// <param name="keys">The keys; duplicates are allowed and fetched once.</param>
    /// <param name="cancellationToken">Cancels this caller's wait, as for <see cref="LoadAsync"/>.</param>
    /// <returns>One value per key, in the order of <paramref name="keys"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="keys"/> or one of its keys is null.</exception>
    /// <exception cref="AggregateException">
    /// At least one key failed: one <see cref="KeyLoadException"/> per failed key, naming it and its position, whose
    /// inner exception is what failed that key.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    Task<IReadOnlyList<TValue>> LoadManyAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default);

    /// <summary>
    /// Puts a value in the cache, so that loading <paramref name="key"/> returns it without a fetch. It does not
    /// overwrite: if the key has a cached value or a fetch already requested, nothing changes (call <see cref="Clear"/> first).
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <returns><see langword="true"/> if the value was added; <see langword="false"/> if the key had an entry or the cache is off.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    bool Prime(TKey key, TValue value);

    /// <summary>
    /// Forgets the cached value of <paramref name="key"/>, so that the next load fetches it again. If the key's fetch
    /// has already started, its callers still get its value, but that value is not cached and later loads fetch again.
    /// A key whose batch has not been fetched yet stays in it: its fetch comes after this call anyway.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> if a cached value or a running fetch was forgotten.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
    bool Clear(TKey key);

    /// <summary>Forgets every cached value and every running fetch, as <see cref="Clear"/> does for one key.</summary>
    void ClearAll();
}
