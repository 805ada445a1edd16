using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>Contract point 10: counters readable at any time; exactly one outcome per accepted job.</summary>
public class CountersTests
{
    [Fact]
    public async Task Counters_ReadBeforeDuringAndAfter_ReflectEachStage()
    {
        var gate = new HandlerGate();
        var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                await gate.PassAsync();
                return jobs;
            },
            new BatcherOptions<int, int> { MaxBatchSize = 2, MaxBatchDelay = Timeout.InfiniteTimeSpan, TimeProvider = new FakeTimeProvider() });
        Assert.Equal(default, batcher.Counters);

        batcher.TryAdd(1);
        batcher.TryAdd(2);
        batcher.TryAdd(3);
        BatcherCounters before = batcher.Counters;
        Assert.Equal(3, before.Accepted);
        Assert.Equal(3, before.Pending);

        batcher.Start();
        await gate.WhenEnteredAsync(1);
        BatcherCounters during = batcher.Counters;
        Assert.Equal(2, during.InFlight);
        Assert.Equal(1, during.Pending);
        Assert.Equal(1, during.Batches);
        Assert.Equal(0, during.Succeeded);

        gate.Open();
        await batcher.StopAsync().Guarded();
        BatcherCounters after = batcher.Counters;
        Assert.Equal(3, after.Succeeded);
        Assert.Equal(0, after.Pending);
        Assert.Equal(0, after.InFlight);
        Assert.Equal(2, after.Batches);
    }

    [Fact]
    public async Task Counters_MixOfOutcomes_EveryAcceptedJobCountedExactlyOnce()
    {
        var options = new BatcherOptions<int, int>
        {
            MaxBatchSize = 4,
            Capacity = 4,
            OverflowPolicy = OverflowPolicy.DropOldest,
            MaxBatchDelay = Timeout.InfiniteTimeSpan,
            TimeProvider = new FakeTimeProvider(),
        };
        var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    if (batch[i] % 2 == 0)
                    {
                        batch.SetResult(i, batch[i]);
                    }
                    else
                    {
                        batch.Fail(i, new InvalidOperationException("odd"));
                    }
                }

                return default;
            },
            options);

        using var cts = new CancellationTokenSource();
        Task<int> canceled = batcher.AddAndWaitAsync(100, cts.Token).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled.Guarded());

        // Six adds into a buffer of four, before Start: the two oldest are dropped.
        for (int i = 0; i < 6; i++)
        {
            Assert.True(batcher.TryAdd(i));
        }

        batcher.Start();
        await batcher.StopAsync().Guarded();
        Assert.False(batcher.TryAdd(9));

        BatcherCounters c = batcher.Counters;
        Assert.Equal(7, c.Accepted);
        Assert.Equal(1, c.Canceled);
        Assert.Equal(2, c.Dropped);
        Assert.Equal(2, c.Succeeded);
        Assert.Equal(2, c.Failed);
        Assert.Equal(1, c.Rejected);
        Assert.Equal(c.Accepted, c.Succeeded + c.Failed + c.Canceled + c.Dropped);
        Assert.Equal(c.Accepted, c.Completed);
    }
}
