namespace Tinybatch;

/// <summary>
/// The settings of a <see cref="DataLoader{TKey, TValue}"/>: the bindable settings of <see cref="DataLoaderOptions"/>
/// plus the key comparer.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
public sealed class DataLoaderOptions<TKey> : DataLoaderOptions
{
    /// <summary>
    /// Gets or sets how keys are compared for de-duplication and caching (for example
    /// <see cref="StringComparer.OrdinalIgnoreCase"/>). It runs under the loader's lock, so keep it fast and pure.
    /// </summary>
    /// <value>The default is <see langword="null"/>: <see cref="EqualityComparer{T}.Default"/>.</value>
    public IEqualityComparer<TKey>? KeyComparer { get; set; }

    /// <summary>Copies every setting of this object into <paramref name="target"/>.</summary>
    /// <param name="target">The options to overwrite.</param>
    public void CopyTo(DataLoaderOptions<TKey> target)
    {
        base.CopyTo(target);
        target.KeyComparer = KeyComparer;
    }
}
