using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Tinybatch.Benchmarks.Implementations;

/// <summary>
/// The trivial handler every implementation calls, plus the measurement: it counts each item (to prove exactly-once
/// delivery), counts batches, and records latencies in a preallocated array, so that measuring allocates nothing per item
/// and costs every implementation the same.
/// </summary>
/// <remarks>
/// Latency is sampled for the ids whose low <c>sampleShift</c> bits are zero; the array slot of a sampled id first holds
/// its add timestamp, then its latency. Every implementation delivers batches one at a time (a single consumer), which
/// <see cref="BeginBatch"/> checks, so the counters need no interlocked operations.
/// </remarks>
internal sealed class BatchSink
{
    private readonly byte[] _seen;
    private readonly long[] _samples;
    private readonly TaskCompletionSource _none = new();
    private long _expected;
    private long _mask;
    private int _shift;
    private bool _latencyAtHandler;
    private long _processed;
    private long _batches;
    private int _inHandler;
    private TaskCompletionSource _allSeen = new();

    public BatchSink(long maxItems)
    {
        _seen = new byte[maxItems];
        _samples = new long[maxItems];
        _none.SetResult();
    }

    public long Processed => Volatile.Read(ref _processed);

    public long Batches => Volatile.Read(ref _batches);

    /// <summary>Gets a task that completes when the handler has seen the expected number of items.</summary>
    public Task AllSeen => _allSeen.Task;

    /// <summary>Readies the sink for a run of <paramref name="expected"/> items, ids 0 to expected - 1.</summary>
    /// <param name="expected">How many items the run adds.</param>
    /// <param name="sampleShift">Latency is recorded for one id in 2^sampleShift.</param>
    /// <param name="latencyAtHandler">True to measure add-to-handler; false when the caller records its own latency.</param>
    public void Prepare(long expected, int sampleShift, bool latencyAtHandler)
    {
        if (expected > _seen.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(expected), $"The sink holds {_seen.Length} items, not {expected}.");
        }

        Array.Clear(_seen, 0, (int)expected);
        Array.Clear(_samples, 0, SampleCount(expected, sampleShift));
        _expected = expected;
        _shift = sampleShift;
        _mask = (1L << sampleShift) - 1;
        _latencyAtHandler = latencyAtHandler;
        _processed = 0;
        _batches = 0;
        _inHandler = 0;
        _allSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Called by a producer just before it adds <paramref name="id"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StampAdd(long id)
    {
        if ((id & _mask) == 0)
        {
            _samples[id >> _shift] = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Called by a request's caller once its await has resumed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RecordCallerLatency(long id, long startTimestamp)
    {
        if ((id & _mask) == 0)
        {
            _samples[id >> _shift] = Stopwatch.GetTimestamp() - startTimestamp;
        }
    }

    /// <summary>Called by a request's caller with a latency it measured itself (every id recorded: shift 0).</summary>
    public void RecordLatency(long id, long ticks) => _samples[id] = ticks;

    /// <summary>Called by the handler before the items of a batch; returns the timestamp the batch arrived.</summary>
    public long BeginBatch()
    {
        if (Interlocked.Exchange(ref _inHandler, 1) != 0)
        {
            throw new InvalidOperationException("Two batches reached the handler at once: the harness assumes one consumer.");
        }

        return Stopwatch.GetTimestamp();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnItem(long id, long batchTimestamp)
    {
        _seen[id]++;
        if (_latencyAtHandler && (id & _mask) == 0)
        {
            ref long slot = ref _samples[id >> _shift];
            slot = batchTimestamp - slot;
        }
    }

    public void EndBatch(int count)
    {
        long processed = _processed + count;
        Volatile.Write(ref _processed, processed);
        Volatile.Write(ref _batches, _batches + 1);
        Volatile.Write(ref _inHandler, 0);
        if (processed >= _expected)
        {
            _allSeen.TrySetResult();
        }
    }

    /// <summary>Throws unless every id from 0 to expected - 1 reached the handler exactly once.</summary>
    public void VerifyExactlyOnce(string implementation)
    {
        long processed = Volatile.Read(ref _processed);
        long missing = 0;
        long duplicated = 0;
        for (long i = 0; i < _expected; i++)
        {
            byte seen = _seen[i];
            if (seen == 0)
            {
                missing++;
            }
            else if (seen > 1)
            {
                duplicated++;
            }
        }

        if (processed != _expected || missing != 0 || duplicated != 0)
        {
            throw new InvalidOperationException(
                $"{implementation} did not deliver every item exactly once: expected {_expected}, handler saw {processed}, " +
                $"{missing} ids missing, {duplicated} ids delivered more than once.");
        }
    }

    /// <summary>Sorts the recorded latencies in place and returns p50, p99 and p99.9 in microseconds.</summary>
    public (double P50, double P99, double P999) LatencyPercentilesUs() =>
        PercentilesUs(_samples.AsSpan(0, SampleCount(_expected, _shift)));

    /// <summary>Sorts <paramref name="ticks"/> in place and returns p50, p99 and p99.9 in microseconds.</summary>
    public static (double P50, double P99, double P999) PercentilesUs(Span<long> ticks)
    {
        if (ticks.IsEmpty)
        {
            return (double.NaN, double.NaN, double.NaN);
        }

        ticks.Sort();
        return (ToUs(At(ticks, 0.50)), ToUs(At(ticks, 0.99)), ToUs(At(ticks, 0.999)));
    }

    /// <summary>
    /// For a run whose length was not known in advance (it ended at a deadline): sets how many items it added once
    /// they are all in, which completes <see cref="AllSeen"/> if the handler has seen that many.
    /// </summary>
    public void ExpectExactly(long expected)
    {
        _expected = expected;
        if (Volatile.Read(ref _processed) >= expected)
        {
            _allSeen.TrySetResult();
        }
    }

    /// <summary>Gets how many times the handler saw <paramref name="id"/>.</summary>
    public int TimesSeen(long id) => _seen[id];

    /// <summary>Gets the latency recorded for <paramref name="id"/>, in <see cref="Stopwatch"/> ticks (sampling every id).</summary>
    public long RecordedLatency(long id) => _samples[id];

    private static int SampleCount(long expected, int shift) => (int)(((expected - 1) >> shift) + 1);

    private static long At(Span<long> sorted, double quantile) =>
        sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(quantile * sorted.Length) - 1)];

    private static double ToUs(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
}
