using Tinybatch.Internal;

namespace Tinybatch.Tests;

/// <summary>
/// The consumer's backlog, where jobs wait when producers outrun the handler: it keeps its array across the fill-and-drain
/// cycles of a steady overload (giving it up at each emptying cost tens of bytes per job), and gives memory back once
/// the overload is over.
/// </summary>
public sealed class BacklogTests
{
    [Fact]
    public void FillAndDrain_RepeatedAtTheSamePeak_KeepsItsArray()
    {
        var backlog = new Backlog<long>();
        Cycle(backlog, 1_000);
        int length = backlog.ArrayLength;

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            Cycle(backlog, 1_000);
        }

        // Regrowing from 16 slots at each filling would allocate about 80 KB per cycle (1.6 MB here); the runtime itself
        // (tiered compilation, coverage instrumentation in CI) may allocate a few KB on this thread meanwhile.
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16 * 1024, $"20 fill-and-drain cycles allocated {allocated} bytes");
        Assert.Equal(length, backlog.ArrayLength);
    }

    [Fact]
    public void Trim_UnusedSinceTheLastTrim_GivesTheArrayBack()
    {
        var backlog = new Backlog<long>();
        Cycle(backlog, 100_000);
        Assert.Equal(131_072, backlog.ArrayLength);

        // Used since the last call (a steady overload empties it between fillings): kept.
        backlog.Trim();
        Assert.Equal(131_072, backlog.ArrayLength);

        backlog.Trim();
        Assert.Equal(0, backlog.ArrayLength);
    }

    [Fact]
    public void Trim_JobsQueued_KeepsThem()
    {
        var backlog = new Backlog<long>();
        backlog.Enqueue(new QueuedJob<long> { Position = 7 });
        backlog.Trim();
        backlog.Trim();
        Assert.Equal(7, backlog.Peek().Position);
    }

    [Fact]
    public async Task Batcher_StallDrainsAndTheLoopIdles_BacklogMemoryIsGivenBack()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var batcher = new Batcher<int, int>(
            async (Batch<int, int> batch, CancellationToken _) =>
            {
                await release.Task;
                batch.SetResults(batch.ToArray());
            },
            new BatcherOptions<int, int> { MaxBatchSize = 10, MaxBatchDelay = TimeSpan.Zero, Capacity = 200_000 });
        batcher.Start();

        // The ring holds 65,536 jobs: the rest of a stall waits in the backlog. The handler is released whatever
        // happens, or a failed assertion would leave the disposal waiting for it.
        bool reached;
        try
        {
            for (int i = 0; i < 100_000; i++)
            {
                Assert.True(batcher.TryAdd(i));
            }

            reached = batcher.Intake.BacklogArrayLength > 0;
        }
        finally
        {
            release.TrySetResult();
        }

        Assert.True(reached, "the stall never reached the backlog: the test proves nothing");
        await batcher.FlushAsync().WaitAsync(HangGuard.Timeout);
        await batcher.WhenIdleAsync().WaitAsync(HangGuard.Timeout);
        await batcher.WhenIdleAsync().WaitAsync(HangGuard.Timeout);
        Assert.Equal(0, batcher.Intake.BacklogArrayLength);
    }

    [Fact]
    public void RemoveWhere_WrappedAroundTheArray_KeepsTheOrderOfTheRest()
    {
        var backlog = new Backlog<long>();
        for (int i = 0; i < 16; i++)
        {
            backlog.Enqueue(new QueuedJob<long> { Position = i });
        }

        for (int i = 0; i < 10; i++)
        {
            backlog.Dequeue();
        }

        for (int i = 16; i < 24; i++)
        {
            backlog.Enqueue(new QueuedJob<long> { Position = i });
        }

        Assert.Equal(2, backlog.RemoveWhere(static j => j.Position is 12 or 20));
        var rest = new List<long>();
        while (backlog.Count > 0)
        {
            rest.Add(backlog.Peek().Position);
            backlog.Dequeue();
        }

        Assert.Equal([10, 11, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23], rest);
    }

    private static void Cycle(Backlog<long> backlog, int jobs)
    {
        for (int i = 0; i < jobs; i++)
        {
            backlog.Enqueue(new QueuedJob<long> { Position = i, Job = i });
        }

        for (int i = 0; i < jobs; i++)
        {
            // Not Assert.Equal: the allocation test measures this loop, and the assertion allocates.
            if (backlog.Peek().Position != i)
            {
                throw new InvalidOperationException($"The backlog gave position {backlog.Peek().Position} where {i} was next.");
            }

            backlog.Dequeue();
        }
    }
}
