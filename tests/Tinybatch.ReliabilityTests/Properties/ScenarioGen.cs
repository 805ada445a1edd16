using CsCheck;
using Tinybatch.ReliabilityTests.Model;

namespace Tinybatch.ReliabilityTests.Properties;

/// <summary>
/// Generators of batcher configurations and operation sequences; CsCheck shrinks them towards the first values. Every
/// feature is drawn in every sequence: the overflow policy, retries with delays, handler timeouts, weights, cancellation
/// waves, flushes and stop deadlines. TINYBATCH_MODEL_FEATURES (a comma list of overflow, waves, retries, timeouts,
/// flushes; default all) narrows them, to find which feature a failure needs; adding "roomy" gives every scenario 1,000 places
/// more, so that the buffer is never full (a failure that then goes away is about capacity accounting).
/// </summary>
public static class ScenarioGen
{
    private static readonly HashSet<string> Features = Read();

    private static bool On(string feature) => Features.Contains(feature);

    private static HashSet<string> Read()
    {
        string? text = Environment.GetEnvironmentVariable("TINYBATCH_MODEL_FEATURES");
        return string.IsNullOrWhiteSpace(text)
            ? ["overflow", "waves", "retries", "timeouts", "flushes"]
            : [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }

    private static readonly Gen<Behaviour> BehaviourGen = Gen.Frequency(
        (6, Gen.Const(Behaviour.Succeed)),
        (1, Gen.Const(Behaviour.Throw)),
        (1, Gen.Const(Behaviour.WrongCount)),
        (1, Gen.Const(Behaviour.FailOdd)),
        (1, Gen.Const(Behaviour.Forget)),
        (2, Gen.Const(Behaviour.Hold)),
        (1, Gen.Const(Behaviour.HoldThenThrow)),
        (On("retries") ? 2 : 0, Gen.Const(Behaviour.RetryFirst)));

    private static readonly Gen<Op> OpGen = Gen.Frequency(
        (10, Gen.Const(new Op(OpKind.Add, 0))),
        (On("overflow") ? 4 : 0, Gen.Const(new Op(OpKind.AddAsync, 0))),
        (5, Gen.Const(new Op(OpKind.AddAndWait, 0))),
        (4, Gen.Const(new Op(OpKind.AddAndWaitCancelable, 0))),
        (2, Gen.Int[0, 7].Select(i => new Op(OpKind.CancelCaller, i))),
        (On("waves") ? 1 : 0, Gen.Const(new Op(OpKind.CancelWave, 0))),
        (On("flushes") ? 2 : 0, Gen.Const(new Op(OpKind.Flush, 0))),
        (5, Gen.OneOf(Gen.Const(1), Gen.Const(5), Gen.Const(9), Gen.Const(10), Gen.Const(25)).Select(ms => new Op(OpKind.Advance, ms))),
        (4, Gen.Int[0, 3].Select(i => new Op(OpKind.Release, i))),
        (1, Gen.Const(new Op(OpKind.Stop, 0))),
        (1, Gen.Const(new Op(OpKind.StopWithDeadline, 0))));

    private static readonly Gen<OverflowPolicy> PolicyGen = On("overflow")
        ? Gen.OneOf(Gen.Const(OverflowPolicy.Wait), Gen.Const(OverflowPolicy.Reject), Gen.Const(OverflowPolicy.DropOldest), Gen.Const(OverflowPolicy.DropWrite))
        : Gen.Const(OverflowPolicy.Wait);

    /// <summary>The options beyond the original core: overflow policy, attempts, retry base delay, handler timeout.</summary>
    private static readonly Gen<(OverflowPolicy Policy, int Attempts, int RetryMs, int TimeoutMs)> FeaturesGen =
        Gen.Select(
            PolicyGen,
            Gen.Int[1, 3],
            Gen.OneOf(Gen.Const(2), Gen.Const(7)),
            On("timeouts") ? Gen.OneOf(Gen.Const(0), Gen.Const(0), Gen.Const(13)) : Gen.Const(0));

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
            Gen.Select(OpGen.Array[1, 40], FeaturesGen).Select((ops, features) => new Scenario(
                size, delay, conc, weight, size + extraCapacity + (On("roomy") ? 1000 : 0), adaptive && size > 1, behaviours, weights, ops)
            {
                Policy = features.Policy,
                MaxAttempts = features.Attempts,
                RetryBaseMs = features.RetryMs,
                TimeoutMs = features.TimeoutMs,
            }));
}
