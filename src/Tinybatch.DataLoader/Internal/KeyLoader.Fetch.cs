namespace Tinybatch.Loading.Internal;

/// <summary>The batch handler: it calls the fetch with the keys of a batch whose callers are still there.</summary>
internal sealed partial class KeyLoader<TKey, TStored>
{
    /// <summary>
    /// The batcher's handler. Its jobs are distinct keys (the loader never queues a key twice at once); keys whose
    /// callers all left while the batcher was cutting the batch are skipped here, under the lock that decides it.
    /// </summary>
    private async ValueTask HandleBatchAsync(Batch<LoadEntry<TKey, TStored>, TStored> batch, CancellationToken cancellationToken)
    {
        var keys = new TKey[batch.Count];
        var positions = new int[batch.Count];
        int count = 0;
        lock (_gate)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                LoadEntry<TKey, TStored> entry = batch[i];
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

        await _fetch(keys, new FetchAnswer<TKey, TStored>(batch, positions, _name), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gives the skipped keys an outcome; their callers are gone, and the batcher requires one per job.</summary>
    private void MarkAbandoned(Batch<LoadEntry<TKey, TStored>, TStored> batch)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            LoadEntry<TKey, TStored> entry = batch[i];
            if (entry.Abandoned)
            {
                batch.Fail(i, new OperationCanceledException($"Every caller of key '{entry.Key}' cancelled before data loader '{_name}' fetched it.", entry.Token));
            }
        }
    }
}
