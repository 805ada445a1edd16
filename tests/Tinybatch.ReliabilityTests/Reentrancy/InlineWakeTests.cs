using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.ReliabilityTests.Reentrancy;

/// <summary>
/// A wake runs the dispatch loop on the waking thread. When that thread is an add between taking its place and
/// publishing its job (here: the caller's token is cancelled by the clock read in between, so arming the wait runs the
/// cancellation inline and wakes the loop), the loop finds its own head unpublished. It must leave that thread, or the
/// add never publishes and the batcher never drains: found by the stress run (seed 17330089), pinned here.
/// </summary>
[Collection(ReliabilitySuite.Name)]
public sealed class InlineWakeTests
{
    [Fact]
    public async Task AddAndWait_TokenCancelledBetweenClaimAndPublish_AddReturnsAndTheBatcherDrains()
    {
        var clock = new CancellingClock();
        var processed = new List<int>();
        var batcher = new Batcher<int, int>(
            (Batch<int, int> batch, CancellationToken _) =>
            {
                foreach (int job in batch)
                {
                    lock (processed)
                    {
                        processed.Add(job);
                    }
                }

                batch.SetResults(batch.ToArray());
                return ValueTask.CompletedTask;
            },
            new BatcherOptions<int, int> { MaxBatchSize = 10, MaxBatchDelay = TimeSpan.FromMilliseconds(5), TimeProvider = clock });
        batcher.Start();
        await batcher.WhenIdleAsync().WaitAsync(HangGuard.Timeout);

        using var cts = new CancellationTokenSource();
        clock.CancelOnNextRead = cts;

        // On its own thread: before the fix, this add deadlocked the thread it ran on.
        Task<int> canceled = Task.Run(() => batcher.AddAndWaitAsync(1, cts.Token).AsTask());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled.WaitAsync(HangGuard.Timeout));
        Assert.True(clock.Cancelled, "the clock was not read between claim and publish: the test no longer reaches the case");

        Task<int> next = batcher.AddAndWaitAsync(2).AsTask();
        await batcher.FlushAsync().WaitAsync(HangGuard.Timeout);
        Assert.Equal(2, await next.WaitAsync(HangGuard.Timeout));
        await batcher.StopAsync().WaitAsync(HangGuard.Timeout);

        Assert.Equal([2], processed);
        Assert.Equal(1, batcher.Counters.Canceled);
        Assert.Equal(1, batcher.Counters.Succeeded);
    }

    private sealed class CancellingClock : FakeTimeProvider
    {
        private CancellationTokenSource? _cts;

        public CancellationTokenSource? CancelOnNextRead
        {
            set => Volatile.Write(ref _cts, value);
        }

        public bool Cancelled { get; private set; }

        public override long GetTimestamp()
        {
            if (Interlocked.Exchange(ref _cts, null) is { } cts)
            {
                cts.Cancel();
                Cancelled = true;
            }

            return base.GetTimestamp();
        }
    }
}
