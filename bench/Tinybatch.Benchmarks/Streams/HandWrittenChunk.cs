using System.Runtime.CompilerServices;

namespace Tinybatch.Benchmarks.Streams;

/// <summary>
/// Chunk-with-timeout for an <see cref="IAsyncEnumerable{T}"/> as it is usually written by hand: race the pending
/// <c>MoveNextAsync</c> (as a Task) against a <c>Task.Delay</c> with <c>Task.WhenAny</c>. Two versions: the delay
/// started at each chunk's first item, and the same with the delay hoisted out of the loop, the pitfall the Go
/// original had (a timer armed once, not once per batch).
/// </summary>
internal static class HandWrittenChunk
{
    /// <summary>The careful version: a new delay from each chunk's first item; the pending move is kept across a yield.</summary>
    public static async IAsyncEnumerable<List<T>> ChunkWithTimeout<T>(
        IAsyncEnumerable<T> source,
        int size,
        TimeSpan timeout,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using IAsyncEnumerator<T> e = source.GetAsyncEnumerator(cancellationToken);
        var chunk = new List<T>(size);
        Task<bool>? move = null;
        Task? delay = null;
        while (true)
        {
            move ??= e.MoveNextAsync().AsTask();
            if (chunk.Count > 0 && !move.IsCompleted)
            {
                delay ??= Task.Delay(timeout, cancellationToken);
                if (await Task.WhenAny(move, delay) == delay)
                {
                    yield return chunk;
                    chunk = new List<T>(size);
                    delay = null;
                    continue;
                }
            }

            if (!await move)
            {
                break;
            }

            move = null;
            chunk.Add(e.Current);
            if (chunk.Count == size)
            {
                yield return chunk;
                chunk = new List<T>(size);
                delay = null;
            }
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    /// <summary>The pitfall: one delay for the whole enumeration. After it has fired once it never waits again.</summary>
    public static async IAsyncEnumerable<List<T>> ChunkWithHoistedTimeout<T>(
        IAsyncEnumerable<T> source,
        int size,
        TimeSpan timeout,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using IAsyncEnumerator<T> e = source.GetAsyncEnumerator(cancellationToken);
        var chunk = new List<T>(size);
        Task<bool>? move = null;
        Task delay = Task.Delay(timeout, cancellationToken);
        while (true)
        {
            move ??= e.MoveNextAsync().AsTask();
            if (chunk.Count > 0 && !move.IsCompleted && await Task.WhenAny(move, delay) == delay)
            {
                yield return chunk;
                chunk = new List<T>(size);
                continue;
            }

            if (!await move)
            {
                break;
            }

            move = null;
            chunk.Add(e.Current);
            if (chunk.Count == size)
            {
                yield return chunk;
                chunk = new List<T>(size);
            }
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }
}
