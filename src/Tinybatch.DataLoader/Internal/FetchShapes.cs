namespace Tinybatch.Loading.Internal;

/// <summary>
/// Adapts each public fetch shape to <see cref="KeyFetch{TKey, TStored}"/>. Reading the answer for one key can throw
/// (its hashing, or the answer's comparer): that fails only that key, with that exception.
/// </summary>
internal static class FetchShapes
{
    public static KeyFetch<TKey, TValue> ByKey<TKey, TValue>(Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IReadOnlyDictionary<TKey, TValue>>> fetch) =>
        async (keys, answer, ct) =>
        {
            IReadOnlyDictionary<TKey, TValue> values = await fetch(keys, ct).ConfigureAwait(false) ?? throw NullAnswer(answer, keys.Length, "dictionary");
            for (int j = 0; j < keys.Length; j++)
            {
                TValue? value;
                bool found;
                try
                {
                    found = values.TryGetValue(keys[j], out value);
                }
                catch (Exception ex)
                {
                    answer.SetError(j, ex);
                    continue;
                }

                if (found)
                {
                    answer.SetValue(j, value!);
                }
                else
                {
                    answer.SetMissing(j);
                }
            }
        };

    public static KeyFetch<TKey, TValue> ByPosition<TKey, TValue>(Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IReadOnlyList<TValue>>> fetch) =>
        async (keys, answer, ct) =>
        {
            IReadOnlyList<TValue>? values = await fetch(keys, ct).ConfigureAwait(false);
            ThrowIfWrongCount(answer, values?.Count, keys.Length);
            for (int j = 0; j < keys.Length; j++)
            {
                answer.SetValue(j, values![j]);
            }
        };

    public static KeyFetch<TKey, TValue> ResultsByKey<TKey, TValue>(Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IReadOnlyDictionary<TKey, LoadResult<TValue>>>> fetch) =>
        async (keys, answer, ct) =>
        {
            IReadOnlyDictionary<TKey, LoadResult<TValue>> results = await fetch(keys, ct).ConfigureAwait(false) ?? throw NullAnswer(answer, keys.Length, "dictionary");
            for (int j = 0; j < keys.Length; j++)
            {
                LoadResult<TValue> result;
                bool found;
                try
                {
                    found = results.TryGetValue(keys[j], out result);
                }
                catch (Exception ex)
                {
                    answer.SetError(j, ex);
                    continue;
                }

                if (found)
                {
                    SetResult(answer, j, result);
                }
                else
                {
                    answer.SetMissing(j);
                }
            }
        };

    public static KeyFetch<TKey, TValue> ResultsByPosition<TKey, TValue>(Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IReadOnlyList<LoadResult<TValue>>>> fetch) =>
        async (keys, answer, ct) =>
        {
            IReadOnlyList<LoadResult<TValue>>? results = await fetch(keys, ct).ConfigureAwait(false);
            ThrowIfWrongCount(answer, results?.Count, keys.Length);
            for (int j = 0; j < keys.Length; j++)
            {
                SetResult(answer, j, results![j]);
            }
        };

    public static KeyFetch<TKey, IReadOnlyList<TValue>> Grouped<TKey, TValue>(Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<ILookup<TKey, TValue>>> fetch) =>
        async (keys, answer, ct) =>
        {
            ILookup<TKey, TValue> groups = await fetch(keys, ct).ConfigureAwait(false) ?? throw NullAnswer(answer, keys.Length, "lookup");
            for (int j = 0; j < keys.Length; j++)
            {
                IReadOnlyList<TValue> values;
                try
                {
                    values = ToList(groups[keys[j]]);
                }
                catch (Exception ex)
                {
                    answer.SetError(j, ex);
                    continue;
                }

                answer.SetValue(j, values);
            }
        };

    public static KeyFetch<TKey, IReadOnlyList<TValue>> GroupedResults<TKey, TValue>(
        Func<IReadOnlyList<TKey>, CancellationToken, ValueTask<IReadOnlyDictionary<TKey, LoadResult<IReadOnlyList<TValue>>>>> fetch) =>
        async (keys, answer, ct) =>
        {
            IReadOnlyDictionary<TKey, LoadResult<IReadOnlyList<TValue>>> results = await fetch(keys, ct).ConfigureAwait(false)
                ?? throw NullAnswer(answer, keys.Length, "dictionary");
            for (int j = 0; j < keys.Length; j++)
            {
                LoadResult<IReadOnlyList<TValue>> result;
                bool found;
                try
                {
                    found = results.TryGetValue(keys[j], out result);
                }
                catch (Exception ex)
                {
                    answer.SetError(j, ex);
                    continue;
                }

                if (!found)
                {
                    answer.SetValue(j, []);
                }
                else if (result.Error is { } error)
                {
                    answer.SetError(j, error);
                }
                else if (result.Value is { } values)
                {
                    answer.SetValue(j, values);
                }
                else
                {
                    answer.SetError(j, new InvalidOperationException(
                        $"The fetch of data loader '{answer.LoaderName}' returned a null list for key '{keys[j]}'; return an empty list for a key without values."));
                }
            }
        };

    /// <summary>Copies a group, so that callers cannot see later changes to the fetch's answer (an empty group gives the shared empty array).</summary>
    private static TValue[] ToList<TValue>(IEnumerable<TValue> values) => values.ToArray();

    private static void SetResult<TKey, TValue>(FetchAnswer<TKey, TValue> answer, int key, LoadResult<TValue> result)
    {
        if (result.Error is { } error)
        {
            answer.SetError(key, error);
        }
        else
        {
            answer.SetValue(key, result.Value);
        }
    }

    private static void ThrowIfWrongCount<TKey, TStored>(FetchAnswer<TKey, TStored> answer, int? count, int keys)
    {
        if (count != keys)
        {
            throw new InvalidOperationException(
                $"The fetch of data loader '{answer.LoaderName}' returned {(count is null ? "null" : count + " values")} for {keys} keys; "
                + "a fetch by position must return exactly one value per key, in the keys' order.");
        }
    }

    private static InvalidOperationException NullAnswer<TKey, TStored>(FetchAnswer<TKey, TStored> answer, int keys, string shape) =>
        new($"The fetch of data loader '{answer.LoaderName}' returned a null {shape} for {keys} keys.");
}
