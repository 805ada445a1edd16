using System.Threading.Channels;
using OpenExtensions = Open.ChannelExtensions.Extensions;

namespace Tinybatch.Benchmarks.Streams;

/// <summary>
/// One way to turn a channel of items into batches: it reads <c>reader</c> to its end, handing each batch to
/// <c>onBatch</c>, and completes (or fails with the source's error) when the stream does.
/// </summary>
internal sealed record StreamBatcher(
    string Name,
    Func<ChannelReader<long>, int, TimeSpan, Func<IReadOnlyList<long>, ValueTask>, Task> Run,
    bool Measured = true);

/// <summary>The operators compared in the stream scenario, each written the way its users write it.</summary>
internal static class StreamBatchers
{
    public static readonly IReadOnlyList<StreamBatcher> All =
    [
        new("Tinybatch Batch (ChannelReader)", async (reader, size, delay, onBatch) =>
        {
            await foreach (IReadOnlyList<long> batch in ChannelReaderBatchExtensions.Batch(reader, size, delay))
            {
                await onBatch(batch);
            }
        }),
        new("Tinybatch Batch (IAsyncEnumerable)", async (reader, size, delay, onBatch) =>
        {
            await foreach (IReadOnlyList<long> batch in AsyncEnumerableBatchExtensions.Batch(reader.ReadAllAsync(), size, delay))
            {
                await onBatch(batch);
            }
        }),
        new("Open.ChannelExtensions Batch.WithTimeout", async (reader, size, delay, onBatch) =>
        {
            await OpenExtensions.ReadAllAsync(
                OpenExtensions.Batch(reader, size).WithTimeout(delay),
                batch => onBatch(batch));
        }),
        new("Hand-written Chunk+timeout (IAsyncEnumerable)", async (reader, size, delay, onBatch) =>
        {
            await foreach (List<long> batch in HandWrittenChunk.ChunkWithTimeout(reader.ReadAllAsync(), size, delay))
            {
                await onBatch(batch);
            }
        }),
        new("Chunk, no timer (floor)", async (reader, size, _, onBatch) =>
        {
            await foreach (long[] batch in reader.ReadAllAsync().Chunk(size))
            {
                await onBatch(batch);
            }
        }),
        new("Hand-written, delay hoisted (pitfall)", async (reader, size, delay, onBatch) =>
        {
            await foreach (List<long> batch in HandWrittenChunk.ChunkWithHoistedTimeout(reader.ReadAllAsync(), size, delay))
            {
                await onBatch(batch);
            }
        }, Measured: false),
    ];
}
