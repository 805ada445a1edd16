namespace Tinybatch.Loading.Internal;

/// <summary>
/// Where a fetch shape writes each key's outcome. Key <c>j</c> is the <c>j</c>-th key handed to the fetch; the answer
/// maps it back to its job in the batch (cancelled keys were left out of the fetch).
/// </summary>
internal sealed class FetchAnswer<TKey, TStored>(Batch<LoadEntry<TKey, TStored>, TStored> batch, int[] positions, string loaderName)
{
    public string LoaderName => loaderName;

    public void SetValue(int key, TStored value) => batch.SetResult(positions[key], value);

    public void SetError(int key, Exception error) => batch.Fail(positions[key], error);

    /// <summary>The answer has no entry for the key: its load fails with a KeyNotFoundException, and LoadOrDefault returns default.</summary>
    public void SetMissing(int key)
    {
        batch[positions[key]].Missing = true;
        batch.SetResult(positions[key], default!);
    }
}
