using Tinybatch.Loading.Internal;

namespace Tinybatch;

/// <summary>The fetch functions and the batch handler that calls them.</summary>
public sealed partial class DataLoader<TKey, TValue>
{
    private readonly FetchKind _kind;
    private readonly Delegate _fetch;

    /// <summary>Creates a loader whose fetch returns a dictionary of values by key.</summary>
    /// <param name="fetch">
    /// Receives the distinct keys of a batch, in first-request order, and returns their values by key. A key missing
    /// from the answer follows <see cref="DataLoaderOptions.MissingKeyBehavior"/>; extra keys are ignored. The answer
    /// is read with its own comparer. An exception fails every key of the batch.
    /// </param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fetch"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public DataLoader(
        Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IReadOnlyDictionary<TKey, TValue>>> fetch,
        DataLoaderOptions<TKey>? options = null)
        : this(FetchKind.Dictionary, fetch ?? throw new ArgumentNullException(nameof(fetch)), options)
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
        : this(FetchKind.List, fetch ?? throw new ArgumentNullException(nameof(fetch)), options)
    {
    }

    /// <summary>Creates a loader whose fetch reports each key's outcome: a value or an error for that key alone.</summary>
    /// <param name="fetch">
    /// Receives the distinct keys of a batch, in first-request order, and returns an outcome per key. A failed key fails
    /// only its callers and is not cached. A missing key follows <see cref="DataLoaderOptions.MissingKeyBehavior"/>.
    /// </param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fetch"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public DataLoader(
        Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IReadOnlyDictionary<TKey, LoadResult<TValue>>>> fetch,
        DataLoaderOptions<TKey>? options = null)
        : this(FetchKind.Results, fetch ?? throw new ArgumentNullException(nameof(fetch)), options)
    {
    }

    private enum FetchKind
    {
        Dictionary,
        List,
        Results,
    }

    /// <summary>
    /// The batcher's handler. Its jobs are distinct keys (the loader never queues a key twice at once); keys whose
    /// callers all left while the batcher was cutting the batch are skipped here, under the lock that decides it.
    /// </summary>
    private async ValueTask HandleBatchAsync(Batch<LoadEntry<TKey, TValue>, TValue> batch, CancellationToken cancellationToken)
    {
        var keys = new TKey[batch.Count];
        var positions = new int[batch.Count];
        int count = 0;
        lock (_gate)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                LoadEntry<TKey, TValue> entry = batch[i];
                if (entry.Abandoned)
                {
                    continue;
                }

                entry.Dispatched = true;
                keys[count] = entry.Key;
                positions[count] = i;
                count++;
            }
        }

        if (count < batch.Count)
        {
            MarkAbandoned(batch);
            if (count == 0)
            {
                return;
            }

            Array.Resize(ref keys, count);
        }

        switch (_kind)
        {
            case FetchKind.Dictionary:
                var fetchDictionary = (Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IReadOnlyDictionary<TKey, TValue>>>)_fetch;
                IReadOnlyDictionary<TKey, TValue> values = await fetchDictionary(keys, cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"The fetch of data loader '{_name}' returned a null dictionary for {count} keys.");
                for (int j = 0; j < count; j++)
                {
                    if (values.TryGetValue(keys[j], out TValue? value))
                    {
                        batch.SetResult(positions[j], value);
                    }
                    else
                    {
                        SetMissing(batch, positions[j], keys[j]);
                    }
                }

                break;

            case FetchKind.List:
                var fetchList = (Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IReadOnlyList<TValue>>>)_fetch;
                IReadOnlyList<TValue>? list = await fetchList(keys, cancellationToken).ConfigureAwait(false);
                if (list is null || list.Count != count)
                {
                    throw new InvalidOperationException(
                        $"The fetch of data loader '{_name}' returned {(list is null ? "null" : list.Count + " values")} for {count} keys; "
                        + "a fetch by position must return exactly one value per key, in the keys' order.");
                }

                for (int j = 0; j < count; j++)
                {
                    batch.SetResult(positions[j], list[j]);
                }

                break;

            default:
                var fetchResults = (Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IReadOnlyDictionary<TKey, LoadResult<TValue>>>>)_fetch;
                IReadOnlyDictionary<TKey, LoadResult<TValue>> results = await fetchResults(keys, cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"The fetch of data loader '{_name}' returned a null dictionary for {count} keys.");
                for (int j = 0; j < count; j++)
                {
                    if (!results.TryGetValue(keys[j], out LoadResult<TValue> result))
                    {
                        SetMissing(batch, positions[j], keys[j]);
                    }
                    else if (result.Error is { } error)
                    {
                        batch.Fail(positions[j], error);
                    }
                    else
                    {
                        batch.SetResult(positions[j], result.Value);
                    }
                }

                break;
        }
    }

    /// <summary>Gives the skipped keys an outcome; their callers are gone, and the batcher requires one per job.</summary>
    private void MarkAbandoned(Batch<LoadEntry<TKey, TValue>, TValue> batch)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            LoadEntry<TKey, TValue> entry = batch[i];
            if (entry.Abandoned)
            {
                batch.Fail(i, new OperationCanceledException($"Every caller of key '{entry.Key}' cancelled before data loader '{_name}' fetched it.", entry.Cancellation.Token));
            }
        }
    }

    private void SetMissing(Batch<LoadEntry<TKey, TValue>, TValue> batch, int position, TKey key)
    {
        if (_missingKeyBehavior == MissingKeyBehavior.ReturnDefault)
        {
            batch.SetResult(position, default!);
        }
        else
        {
            batch.Fail(position, new KeyNotFoundException($"The fetch of data loader '{_name}' returned no value for key '{key}'."));
        }
    }
}
