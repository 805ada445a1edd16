namespace Tinybatch.DataLoader.Tests;

/// <summary>A fetch that records every batch of keys it receives and can be held open to simulate a slow source.</summary>
internal sealed class TestFetch<TKey>
    where TKey : notnull
{
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly List<TKey[]> _batches = [];
    private readonly System.Threading.Channels.Channel<int> _started = System.Threading.Channels.Channel.CreateUnbounded<int>();

    /// <summary>When set, every fetch waits for it before answering.</summary>
    public TaskCompletionSource? Gate { get; set; }

    public IReadOnlyList<TKey[]> Batches
    {
        get
        {
            lock (_batches)
            {
                return [.. _batches];
            }
        }
    }

    public static string ValueOf(TKey key) => "v" + key;

    public async ValueTask<IReadOnlyDictionary<TKey, string>> FetchAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken)
    {
        Record(keys);
        if (Gate is { } gate)
        {
            await gate.Task;
        }

        return keys.ToDictionary(k => k, ValueOf);
    }

    public void Record(IReadOnlyList<TKey> keys)
    {
        lock (_batches)
        {
            _batches.Add([.. keys]);
        }

        _started.Writer.TryWrite(keys.Count);
    }

    /// <summary>Waits until a fetch has been called (one call per wait).</summary>
    public Task WaitForFetchAsync() => _started.Reader.ReadAsync().AsTask().WaitAsync(Guard);
}
