using System.Diagnostics;
using System.Globalization;
using Tinybatch.ReliabilityTests.Support;
using Xunit.Abstractions;

namespace Tinybatch.ReliabilityTests.Memory;

/// <summary>
/// Memory is bounded by live waiters: a waiter of any kind that is cancelled gives its memory back when it is cancelled,
/// even while the handler is stalled and nothing else moves. 1,000,000 cancelled waiters of each kind (TINYBATCH_WAITER_FLOOD
/// changes the number), in rounds: an add waiting for space (AddAsync under Wait, buffer full), a caller waiting
/// for its result (AddAndWaitAsync, cancelled while queued) and a flush (FlushAsync(token) behind the stalled batch).
/// Retained heap (<see cref="GC.GetTotalMemory"/> after a full collection) is measured after three warm-up rounds (pools
/// and queues at their working size: the result waiters' rounds pass the compaction threshold), then after
/// rounds 1, 2, 4, 8 ... and at the end; it may grow by at most 2 MiB (the whole suite's process moves its retained
/// heap by up to about 1 MiB between collections on its own; a leak of the reported size, 224 B per waiter, passes
/// 2 MiB within 10,000 waiters). The early checks fail a leaking batcher after the
/// first round instead of running the whole flood (today the flush waiters alone would take hours: each registered
/// waiter is visited on every pass of the loop).
/// </summary>
[Collection(ReliabilitySuite.Name)]
public sealed class CancelledWaiterMemoryTests(ITestOutputHelper output)
{
    private const long Margin = 2 * 1024 * 1024;

    public enum Waiter
    {
        Space,
        Result,
        Flush,
    }

    private static int Flood =>
        int.TryParse(Environment.GetEnvironmentVariable("TINYBATCH_WAITER_FLOOD"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 10_000
            ? n
            : 1_000_000;

    /// <summary>Waiters per round: result waiters take a place each (Capacity 1,000), the others do not.</summary>
    private static int RoundOf(Waiter kind) => kind switch
    {
        Waiter.Space => 10_000,
        Waiter.Result => 500,
        _ => 2_000,
    };

    [Theory]
    [InlineData(Waiter.Space)]
    [InlineData(Waiter.Result)]
    [InlineData(Waiter.Flush)]
    public async Task CancelledWaiters_MillionWithStalledHandler_RetainedHeapStaysFlat(Waiter kind)
    {
        int mark = Contained.Mark();
        var stall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int capacity = kind == Waiter.Result ? 1_000 : 100;
        int size = RoundOf(kind);
        var batcher = new Batcher<long, long>(
            async (Batch<long, long> batch, CancellationToken _) =>
            {
                await stall.Task;
                for (int i = 0; i < batch.Count; i++)
                {
                    batch.SetResult(i, batch[i]);
                }
            },
            new BatcherOptions<long, long> { MaxBatchSize = 1, MaxBatchDelay = TimeSpan.Zero, Capacity = capacity });
        batcher.Start();

        // One batch stalled in the handler; for space waiters, the buffer full behind it.
        Assert.True(batcher.TryAdd(-1));
        await Contained.Until(() => batcher.InFlightBatches == 1, mark, "the stalled batch");
        if (kind == Waiter.Space)
        {
            while (batcher.TryAdd(-2))
            {
            }
        }

        long pending = batcher.PendingCount;
        for (int round = 0; round < 3; round++)
        {
            await CancelledRoundAsync(batcher, kind, size, mark);
        }

        long before = GC.GetTotalMemory(forceFullCollection: true);
        var clock = Stopwatch.StartNew();
        int rounds = Flood / size;
        for (int round = 1; round <= rounds; round++)
        {
            await CancelledRoundAsync(batcher, kind, size, mark);
            if (round == rounds || (round & (round - 1)) == 0)
            {
                long after = GC.GetTotalMemory(forceFullCollection: true);
                string line = $"memory (cancelled {kind} waiters): retained before={before / 1024} KiB after={after / 1024} KiB "
                    + $"growth={(after - before) / 1024} KiB over {round * size} cancelled waiters ({clock.Elapsed.TotalSeconds:F1} s)";
                output.WriteLine(line);
                if (round == rounds || after - before >= Margin)
                {
                    SuiteFigures.Record(line);
                }

                Assert.True(after - before < Margin, line);
            }
        }

        Assert.Equal(pending, batcher.PendingCount);

        stall.SetResult();
        await batcher.StopAsync().Within(mark, "the stop");
        BatcherCounters c = batcher.Counters;
        Assert.Equal(c.Accepted, c.Succeeded + c.Canceled);
        Contained.ThrowIfEscaped(mark, "the scenario");
    }

    /// <summary>Starts a round of waiters of one kind, checks each is waiting, cancels them all and waits for each to end as cancelled.</summary>
    private static async Task CancelledRoundAsync(Batcher<long, long> batcher, Waiter kind, int size, int mark)
    {
        using var cts = new CancellationTokenSource();
        var waits = new Task[size];
        for (int i = 0; i < size; i++)
        {
            waits[i] = kind switch
            {
                Waiter.Space => batcher.AddAsync(i, cts.Token).AsTask(),
                Waiter.Result => batcher.AddAndWaitAsync(i, cts.Token).AsTask(),
                _ => batcher.FlushAsync(cts.Token),
            };
        }

        Assert.DoesNotContain(waits, w => w.IsCompleted);
        await cts.CancelAsync();
        await Task.WhenAll(waits).ContinueWith(static _ => { }, TaskScheduler.Default).Within(mark, $"a round of cancelled {kind} waiters");
        Assert.All(waits, w => Assert.True(w.IsCanceled, $"a cancelled {kind} waiter ended {w.Status}: {w.Exception?.InnerException}"));
    }
}
