using Tinybatch.ReliabilityTests.Model;

namespace Tinybatch.ReliabilityTests.Properties;

/// <summary>
/// Two retries due at one instant: the contract does not order their re-entries (each has its own timer, and timers due
/// at one instant fire in any order), so the model accepts either order there, and only there. The sequence is the
/// smallest form of the mismatches random exploration found: job 1 is retried at 0 ms and again at 2.001 ms, job 2 at
/// 2 ms, and with a delay of 2 ms plus the job's id in microseconds both are due at 4.002 ms.
/// </summary>
[Collection(ReliabilitySuite.Name)]
public sealed class RetryTieTests
{
    private static readonly Scenario TwoRetriesAtOneInstant = new(
        MaxBatchSize: 1,
        DelayMs: 0,
        MaxConcurrent: 2,
        MaxWeight: long.MaxValue,
        Capacity: 4,
        Adaptive: false,
        Behaviours: [Behaviour.RetryFirst],
        Weights: [1],
        Ops: [new Op(OpKind.Add, 0), new Op(OpKind.Add, 0), new Op(OpKind.Advance, 2), new Op(OpKind.Add, 0)])
    {
        MaxAttempts = 3,
        RetryBaseMs = 2,
    };

    private static readonly long Tie = (4 * TimeSpan.TicksPerMillisecond) + (2 * TimeSpan.TicksPerMicrosecond);

    [Fact]
    public void AdvanceToEachOrder_TwoRetriesDueAtOneInstant_ReturnsOneModelPerOrder()
    {
        BatcherModel model = ModelAfterTheOperations();
        while (model.NextEvent() is { } next && next < Tie)
        {
            model.AdvanceTo(next);
        }

        Assert.Equal(Tie, model.NextEvent());

        List<BatcherModel> ways = model.AdvanceToEachOrder(Tie);

        Assert.Same(model, ways[0]);
        Assert.Equal([[1, 2], [2, 1]], ways.Select(LastTwoBatches));
    }

    [Fact]
    public void AdvanceToEachOrder_OneRetryDue_ReturnsTheModelAlone()
    {
        BatcherModel model = ModelAfterTheOperations();

        // The first timer after the operations is job 1's re-entry at 2.001 ms, alone at its instant.
        long first = model.NextEvent()!.Value;
        List<BatcherModel> ways = model.AdvanceToEachOrder(first);

        Assert.Equal((2 * TimeSpan.TicksPerMillisecond) + TimeSpan.TicksPerMicrosecond, first);
        Assert.Same(model, Assert.Single(ways));
    }

    [Fact]
    public async Task Drain_TwoRetriesDueAtOneInstant_BatcherMatchesAnAllowedOrder()
    {
        await using var driver = new RealBatcherDriver(TwoRetriesAtOneInstant);

        await driver.RunAsync();

        // Each retry re-entered at the tie went into a batch of its own; the batcher's order is one of the two.
        BatcherModel model = driver.Model;
        Assert.True(model.Stopped);
        int[] atTheTie = [.. model.Batches.Where(b => b.DispatchTime == Tie).Select(b => b.Jobs.Single().Id)];
        Assert.Equal([1, 2], atTheTie.Order());
    }

    /// <summary>The model after the sequence's operations, then stopped (as the driver's drain does).</summary>
    private static BatcherModel ModelAfterTheOperations()
    {
        var model = new BatcherModel(TwoRetriesAtOneInstant);
        model.Add(AddKind.TryAdd, cancelable: false, out _);
        model.Add(AddKind.TryAdd, cancelable: false, out _);
        model.AdvanceTo(2 * TimeSpan.TicksPerMillisecond);
        model.Add(AddKind.TryAdd, cancelable: false, out _);
        model.BeginStop();
        return model;
    }

    private static int[] LastTwoBatches(BatcherModel model) => [.. model.Batches.TakeLast(2).Select(b => b.Jobs.Single().Id)];
}
