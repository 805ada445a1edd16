// The README's sink example, verbatim between the region markers (a test in Tinybatch.Tests checks it).
// <sink-example>
using Polly;
using Polly.Retry;
using Tinybatch.Partitioning;
using Tinybatch.Polly;

namespace Tinybatch.Sink.Tests.Readme;

public sealed record SinkEvent(string Stream, byte[] Payload);

/// <summary>Your sink client: one error code per record (null when the record was stored), in order.</summary>
public interface IFirehose
{
    ValueTask<IReadOnlyList<string?>> PutRecordBatchAsync(string stream, IReadOnlyList<byte[]> records, CancellationToken ct);
}

public sealed class SinkRecordException(string errorCode) : Exception($"The sink failed the record: {errorCode}.")
{
    public string ErrorCode { get; } = errorCode;

    public bool Retryable => ErrorCode is "ServiceUnavailableException" or "InternalFailure";
}

public sealed class FirehoseWriter : IAsyncDisposable
{
    public const int MaxRecordBytes = 1000 * 1024;

    private readonly PartitionedBatcher<string, SinkEvent, bool> _batcher;

    public FirehoseWriter(IFirehose firehose, Action<DeadLetter<SinkEvent>> onDeadLetter)
    {
        var perStream = new BatcherOptions<SinkEvent, bool>
        {
            Name = "firehose",
            MaxBatchSize = 500,                          // records per call
            MaxBatchWeight = 4 * 1024 * 1024,            // bytes per call: a cap no batch ever breaks
            Weigher = e => e.Payload.Length,
            MaxBatchDelay = TimeSpan.FromMilliseconds(200),
            Capacity = 50_000,
            OverflowPolicy = OverflowPolicy.Wait,        // backpressure: AddAsync waits for room, nothing is dropped
            OnDeadLetter = onDeadLetter,                 // retries exhausted, not retryable, or abandoned at stop
        };
        PollyRetryPolicy retry = perStream.UsePollyRetry(
            new RetryStrategyOptions
            {
                MaxRetryAttempts = 3,                    // 4 attempts per record in all
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(100),
                MaxDelay = TimeSpan.FromSeconds(5),
                ShouldHandle = new PredicateBuilder()
                    .Handle<SinkRecordException>(e => e.Retryable)
                    .Handle<HttpRequestException>(),
            },
            retryFailedBatches: true);                   // a call that throws retries its records that have no outcome yet

        _batcher = new PartitionedBatcher<string, SinkEvent, bool>(
            e => e.Stream,                               // one partition (and one batch stream) per delivery stream
            async (stream, batch, ct) =>
            {
                byte[][] records = batch.Select(e => e.Payload).ToArray();
                IReadOnlyList<string?> errors = await firehose.PutRecordBatchAsync(stream, records, ct);
                for (int i = 0; i < batch.Count; i++)
                {
                    if (errors[i] is not { } error)
                    {
                        batch.SetResult(i, true);
                    }
                    else
                    {
                        batch.RetryOrFail(i, new SinkRecordException(error), retry); // later batch, or dead letter
                    }
                }
            },
            new PartitionedBatcherOptions<string, SinkEvent, bool>
            {
                Partition = perStream,
                IdleTimeout = TimeSpan.FromMinutes(5),   // streams that go quiet are retired
                MaxPartitions = 100,
                MaxBatchDelayJitter = TimeSpan.FromMilliseconds(50), // streams do not flush in one burst
            });
        _batcher.Start();
    }

    public BatcherCounters Counters => _batcher.Counters;

    /// <summary>Queues an event; waits while the stream's buffer is full.</summary>
    public ValueTask SendAsync(SinkEvent e, CancellationToken ct = default)
    {
        // The sink refuses records over 1,000 KiB in any batch: refuse them here, visibly.
        if (e.Payload.Length > MaxRecordBytes)
        {
            throw new ArgumentException($"The event has {e.Payload.Length} bytes; the sink takes at most {MaxRecordBytes}.", nameof(e));
        }

        return _batcher.AddAsync(e, ct);
    }

    /// <summary>Sends everything queued, then stops.</summary>
    public ValueTask DisposeAsync() => _batcher.DisposeAsync();
}
// </sink-example>
