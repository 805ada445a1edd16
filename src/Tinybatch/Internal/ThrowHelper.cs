using System.Diagnostics.CodeAnalysis;

namespace Tinybatch.Internal;

/// <summary>Rare throws kept out of line so the hot paths stay small enough to inline.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowIndexOutOfRange(int index, int count) =>
        throw new ArgumentOutOfRangeException(nameof(index), index, $"The batch has {count} jobs; index must be in [0, {count}).");

    [DoesNotReturn]
    public static void ThrowOutcomeAlreadySet(int index, long batchId, JobStatus status) =>
        throw new InvalidOperationException($"Job {index} of batch {batchId} already has an outcome ({status}).");

    [DoesNotReturn]
    public static void ThrowStopped(string name) =>
        throw new BatcherStoppedException($"The batcher '{name}' is stopped (or its lifetime token was cancelled): it accepts no more jobs.");

    [DoesNotReturn]
    public static void ThrowTooHeavy(string name, long weight, long cap) =>
        throw new JobTooHeavyException($"The job weighs {weight}, more than batcher '{name}' accepts for one job ({cap}).")
        {
            Weight = weight,
            MaxBatchWeight = cap,
        };

    [DoesNotReturn]
    public static void ThrowNegativeWeight(string name, long weight) =>
        throw new ArgumentOutOfRangeException(nameof(weight), weight, $"The weigher of batcher '{name}' returned a negative weight ({weight}).");
}
