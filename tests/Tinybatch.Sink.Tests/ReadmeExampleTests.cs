using System.Collections.Concurrent;
using Tinybatch.Sink.Tests.Readme;

namespace Tinybatch.Sink.Tests;

public sealed class ReadmeExampleTests
{
    [Fact]
    public async Task FirehoseWriter_FlakySink_DeliversOrDeadLettersEveryEvent()
    {
        var sink = new FlakyFirehose();
        var deadLetters = new ConcurrentQueue<DeadLetter<SinkEvent>>();
        BatcherCounters counters;
        await using (var writer = new FirehoseWriter(sink, deadLetters.Enqueue))
        {
            for (int i = 0; i < 2_000; i++)
            {
                await writer.SendAsync(new SinkEvent("stream-" + (i % 3), BitConverter.GetBytes(i)));
            }

            await Assert.ThrowsAsync<ArgumentException>(() => writer.SendAsync(new SinkEvent("stream-0", new byte[FirehoseWriter.MaxRecordBytes + 1])).AsTask());
            await writer.DisposeAsync();
            counters = writer.Counters;
        }

        int[] stored = sink.Stored.Select(r => BitConverter.ToInt32(r)).Order().ToArray();
        int[] dead = deadLetters.Select(d => BitConverter.ToInt32(d.Job.Payload)).ToArray();
        Assert.Equal(Enumerable.Range(0, 2_000), stored.Concat(dead).Order());
        Assert.All(dead, id => Assert.Equal(0, id % 500));
        Assert.All(deadLetters, d => Assert.Equal("InvalidArgumentException", Assert.IsType<SinkRecordException>(d.Exception).ErrorCode));
        Assert.Equal(2_000, counters.Accepted);
        Assert.Equal(stored.Length, counters.Succeeded);
        Assert.True(counters.Retried > 0);
    }

    /// <summary>Throttles every 7th record on its first try and refuses every 500th as invalid.</summary>
    private sealed class FlakyFirehose : IFirehose
    {
        private readonly ConcurrentDictionary<int, int> _tries = new();

        public ConcurrentQueue<byte[]> Stored { get; } = new();

        public ValueTask<IReadOnlyList<string?>> PutRecordBatchAsync(string stream, IReadOnlyList<byte[]> records, CancellationToken ct)
        {
            Assert.InRange(records.Count, 1, 500);
            var errors = new string?[records.Count];
            for (int i = 0; i < records.Count; i++)
            {
                int id = BitConverter.ToInt32(records[i]);
                int tries = _tries.AddOrUpdate(id, 1, (_, n) => n + 1);
                errors[i] = id % 500 == 0 ? "InvalidArgumentException" : id % 7 == 0 && tries == 1 ? "ServiceUnavailableException" : null;
                if (errors[i] is null)
                {
                    Stored.Enqueue(records[i]);
                }
            }

            return new ValueTask<IReadOnlyList<string?>>(errors);
        }
    }
}
