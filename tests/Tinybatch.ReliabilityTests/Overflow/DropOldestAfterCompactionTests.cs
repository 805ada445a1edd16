using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Tinybatch.ReliabilityTests.Support;

namespace Tinybatch.ReliabilityTests.Overflow;

/// <summary>
/// The reported DropOldest defect, focused. More cancelled callers than the compaction threshold (max(1,024, Capacity))
/// make the loop compact its queue. DropOldest must still evict the oldest job still queued, and a flush must still wait
/// for every job accepted before it, however the queue is laid out inside. Job 1 is held in the only handler slot,
/// jobs 2-1000 are queued, then 1,100 callers each add and cancel while queued.
/// </summary>
[Collection(ReliabilitySuite.Name)]
public sealed class DropOldestAfterCompactionTests : IDisposable
{
    private const int Queued = 1_000;
    private const int Wave = 1_100;
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _laterGate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<int> _entered = new();
    private readonly ConcurrentQueue<int> _dropped = new();
    private readonly ConcurrentQueue<int> _processed = new();
    private readonly int _mark = Contained.Mark();
    private readonly Batcher<int, int> _batcher;

    public DropOldestAfterCompactionTests()
    {
        _batcher = new Batcher<int, int>(
            async (Batch<int, int> batch, CancellationToken _) =>
            {
                _entered.Enqueue(batch[0]);
                if (batch[0] == 1)
                {
                    await _gate.Task;
                }
                else if (batch[0] > 2)
                {
                    await _laterGate.Task;
                }

                for (int i = 0; i < batch.Count; i++)
                {
                    _processed.Enqueue(batch[i]);
                    batch.SetResult(i, batch[i]);
                }
            },
            new BatcherOptions<int, int>
            {
                MaxBatchSize = 1,
                MaxBatchDelay = TimeSpan.Zero,
                Capacity = Queued + 10,
                OverflowPolicy = OverflowPolicy.DropOldest,
                TimeProvider = new FakeTimeProvider(),
                OnDeadLetter = letter =>
                {
                    if (letter.Reason == DeadLetterReason.Dropped)
                    {
                        _dropped.Enqueue(letter.Job);
                    }
                },
            });
        _batcher.Start();
    }

    public void Dispose()
    {
        _gate.TrySetResult();
        _laterGate.TrySetResult();
    }

    [Fact]
    public async Task DropOldest_AfterACancellationWaveCompactedTheQueue_EvictsTheOldestQueuedJobs()
    {
        await FillAndCancelWaveAsync();

        List<int> added = await AddUntilDroppedAsync(4);

        await Contained.Until(() => _dropped.Count >= 4, _mark, "the dead letters of the four evictions");
        Assert.True(_dropped.Order().SequenceEqual([2, 3, 4, 5]),
            $"evicted [{string.Join(',', _dropped)}] while jobs 2-{Queued} are older (added after the wave: {added.First()}-{added.Last()})");
        await DrainAsync();
    }

    /// <summary>
    /// Job 1 is released, job 2 (if not evicted) passes, later jobs are held again: once a later job is in the handler, the
    /// flush cannot be complete, since its earlier jobs 3-1000 (minus the evicted) have no outcome yet. Today the evicted
    /// marker is re-registered as if every job before it had left the queue, and the flush completes after batch 2.
    /// </summary>
    [Fact]
    public async Task Flush_ItsMarkerBehindACompactedQueueUnderDropOldest_CompletesOnlyWhenEveryEarlierJobHasItsOutcome()
    {
        await FillAndCancelWaveAsync();
        Task flush = _batcher.FlushAsync();

        await AddUntilDroppedAsync(4);
        _gate.TrySetResult();
        await Contained.Until(() => _entered.Any(j => j > 2), _mark, "a job after job 2 in the handler");

        Assert.False(flush.IsCompleted,
            $"the flush completed with {_processed.Count} of its ~{Queued - 4} earlier (not evicted) jobs processed; evicted [{string.Join(',', _dropped)}]");
        _laterGate.TrySetResult();
        await flush.Within(_mark, "the flush");
        var evicted = _dropped.ToHashSet();
        Assert.True(Enumerable.Range(1, Queued).Where(j => !evicted.Contains(j)).All(_processed.Contains), "the flush completed before its earlier jobs were processed");
        await DrainAsync();
    }

    /// <summary>Job 1 held, 2-1000 queued, then 1,100 callers that add and cancel while queued (each frees its place at once).</summary>
    private async Task FillAndCancelWaveAsync()
    {
        Assert.True(_batcher.TryAdd(1));
        await Contained.Until(() => _batcher.InFlightBatches == 1, _mark, "job 1 in the handler");
        for (int job = 2; job <= Queued; job++)
        {
            Assert.True(_batcher.TryAdd(job));
        }

        for (int i = 0; i < Wave; i++)
        {
            using var cts = new CancellationTokenSource();
            Task<int> caller = _batcher.AddAndWaitAsync(10_000 + i, cts.Token).AsTask();
            Assert.False(caller.IsCompleted, $"caller {i} of the wave was not queued: {caller.Exception?.InnerException?.Message}");
            await cts.CancelAsync();
            await caller.Settled(_mark, "a cancelled caller");
            Assert.True(caller.IsCanceled, $"caller {i} of the wave ended {caller.Status}");
        }

        Assert.Empty(_dropped);
    }

    /// <summary>Adds jobs 2001, 2002 ... until <paramref name="drops"/> evictions happened; returns what it added.</summary>
    private async Task<List<int>> AddUntilDroppedAsync(int drops)
    {
        var added = new List<int>();
        for (int job = 2_001; _batcher.Counters.Dropped < drops; job++)
        {
            Assert.True(job < 2_100, "the buffer never filled");
            Assert.True(_batcher.TryAdd(job), $"job {job} was refused instead of evicting the oldest queued job");
            added.Add(job);
        }

        await Task.Yield();
        return added;
    }

    private async Task DrainAsync()
    {
        _gate.TrySetResult();
        _laterGate.TrySetResult();
        await _batcher.StopAsync().Within(_mark, "the stop");
        BatcherCounters c = _batcher.Counters;
        Assert.True(c.Accepted == c.Succeeded + c.Failed + c.Canceled + c.Dropped, $"the counters do not add up: {c}");
        Contained.ThrowIfEscaped(_mark, "the scenario");
    }
}
