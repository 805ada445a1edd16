namespace Tinybatch.Loading.Internal;

/// <summary>
/// A fetch in the shape the engine calls: it receives the distinct keys of a batch and writes each key's outcome to
/// the answer. An exception fails every key of the batch that has no outcome yet.
/// </summary>
internal delegate ValueTask KeyFetch<TKey, TStored>(TKey[] keys, FetchAnswer<TKey, TStored> answer, CancellationToken cancellationToken);
