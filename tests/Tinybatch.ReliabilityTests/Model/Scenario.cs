using System.Globalization;
using System.Text;

namespace Tinybatch.ReliabilityTests.Model;

/// <summary>What the handler does with one batch; the n-th dispatched batch gets behaviour n (cycled).</summary>
public enum Behaviour
{
    Succeed,
    Throw,
    WrongCount,
    FailOdd,
    Forget,
    Hold,
    HoldThenThrow,
}

/// <summary>One step of a generated sequence.</summary>
public enum OpKind
{
    Add,
    AddAndWait,
    AddAndWaitCancelable,
    CancelCaller,
    Flush,
    Advance,
    Release,
    Stop,
    StopWithDeadline,
}

/// <summary>One operation; <see cref="Arg"/> picks a target (mod the candidates) or an amount of time.</summary>
public readonly record struct Op(OpKind Kind, int Arg)
{
    public override string ToString() => Kind switch
    {
        OpKind.Advance => $"Advance({Arg}ms)",
        OpKind.CancelCaller or OpKind.Release => $"{Kind}(#{Arg})",
        _ => Kind.ToString(),
    };
}

/// <summary>One batcher configuration plus the handler's script and the operations to run against it.</summary>
public sealed record Scenario(
    int MaxBatchSize,
    int DelayMs,
    int MaxConcurrent,
    long MaxWeight,
    int Capacity,
    bool Adaptive,
    Behaviour[] Behaviours,
    int[] Weights,
    Op[] Ops)
{
    /// <summary>Gets the batch delay: -1 means size only (infinite), 0 means no linger.</summary>
    public TimeSpan Delay => DelayMs < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(DelayMs);

    public bool Weighted => MaxWeight != long.MaxValue;

    public long WeightOf(int job) => Weighted ? Weights[Math.Abs(job) % Weights.Length] : 1;

    public Behaviour BehaviourOf(long batchId) => Behaviours[(int)((batchId - 1) % Behaviours.Length)];

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"size={MaxBatchSize} delay={DelayMs}ms conc={MaxConcurrent} ");
        text.Append(CultureInfo.InvariantCulture, $"weight={(Weighted ? MaxWeight.ToString(CultureInfo.InvariantCulture) : "none")} cap={Capacity} adaptive={Adaptive} ");
        text.Append(CultureInfo.InvariantCulture, $"weights=[{string.Join(',', Weights)}] handler=[{string.Join(',', Behaviours)}]");
        text.Append(" ops=[").Append(string.Join(", ", Ops)).Append(']');
        return text.ToString();
    }
}
