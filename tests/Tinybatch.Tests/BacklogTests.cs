using Tinybatch.Internal;

namespace Tinybatch.Tests;

/// <summary>
/// The consumer's backlog, where jobs wait when producers outrun the handler: it keeps its array across the fill-and-drain
/// cycles of a steady overload (giving it up at each emptying cost tens of bytes per job), and gives memory back once
/// the load shrinks or after a long stall.
/// </summary>
public sealed class BacklogTests
{
    [Fact]
    public void FillAndDrain_RepeatedAtTheSamePeak_AllocatesNothingAfterTheFirstCycle()
    {
        var backlog = new Backlog<long>();
        Cycle(backlog, 1_000);
        int length = backlog.ArrayLength;

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            Cycle(backlog, 1_000);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(length, backlog.ArrayLength);
    }

    [Fact]
    public void FillAndDrain_PeakFallsBelowAQuarter_ShrinksToThePeakAtTheNextEmptying()
    {
        var backlog = new Backlog<long>();
        Cycle(backlog, 1_000);
        Assert.Equal(1_024, backlog.ArrayLength);

        Cycle(backlog, 100);
        Assert.Equal(128, backlog.ArrayLength);

        Cycle(backlog, 0);
        Assert.Equal(128, backlog.ArrayLength);
    }

    [Fact]
    public void FillAndDrain_AfterALongStall_GivesTheLargeArrayBack()
    {
        var backlog = new Backlog<long>();
        Cycle(backlog, 100_000);
        Assert.Equal(0, backlog.ArrayLength);
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
