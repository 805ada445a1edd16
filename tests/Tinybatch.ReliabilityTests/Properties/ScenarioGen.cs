using CsCheck;
using Tinybatch.ReliabilityTests.Model;

namespace Tinybatch.ReliabilityTests.Properties;

/// <summary>Generators of batcher configurations and operation sequences; CsCheck shrinks them towards the first values.</summary>
public static class ScenarioGen
{
    private static readonly Gen<Behaviour> BehaviourGen = Gen.Frequency(
        (6, Gen.Const(Behaviour.Succeed)),
        (1, Gen.Const(Behaviour.Throw)),
        (1, Gen.Const(Behaviour.WrongCount)),
        (1, Gen.Const(Behaviour.FailOdd)),
        (1, Gen.Const(Behaviour.Forget)),
        (2, Gen.Const(Behaviour.Hold)),
        (1, Gen.Const(Behaviour.HoldThenThrow)));

    private static readonly Gen<Op> OpGen = Gen.Frequency(
        (10, Gen.Const(new Op(OpKind.Add, 0))),
        (5, Gen.Const(new Op(OpKind.AddAndWait, 0))),
        (4, Gen.Const(new Op(OpKind.AddAndWaitCancelable, 0))),
        (2, Gen.Int[0, 7].Select(i => new Op(OpKind.CancelCaller, i))),
        (2, Gen.Const(new Op(OpKind.Flush, 0))),
        (5, Gen.OneOf(Gen.Const(1), Gen.Const(5), Gen.Const(9), Gen.Const(10), Gen.Const(25)).Select(ms => new Op(OpKind.Advance, ms))),
        (4, Gen.Int[0, 3].Select(i => new Op(OpKind.Release, i))),
        (1, Gen.Const(new Op(OpKind.Stop, 0))),
        (1, Gen.Const(new Op(OpKind.StopWithDeadline, 0))));

    /// <summary>A whole scenario: configuration, the handler's script, and 1 to 40 operations.</summary>
    public static readonly Gen<Scenario> Scenario =
        Gen.Select(
            Gen.Int[1, 5],
            Gen.OneOf(Gen.Const(10), Gen.Const(0), Gen.Const(-1), Gen.Const(25)),
            Gen.Int[1, 3],
            Gen.OneOf(Gen.Const(long.MaxValue), Gen.Long[3, 8]),
            Gen.Int[0, 8],
            Gen.Bool,
            BehaviourGen.Array[1, 6],
            Gen.Int[1, 3].Array[1, 4])
        .SelectMany((size, delay, conc, weight, extraCapacity, adaptive, behaviours, weights) =>
            OpGen.Array[1, 40].Select(ops => new Scenario(
                size, delay, conc, weight, size + extraCapacity, adaptive && size > 1, behaviours, weights, ops)));
}
