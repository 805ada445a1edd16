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

    /// <summary>The batch's first job asks for a retry (<see cref="RetryReasonException"/>); the others succeed.</summary>
    RetryFirst,
}

/// <summary>One step of a generated sequence.</summary>
public enum OpKind
{
    Add,
    AddAsync,
    AddAndWait,
    AddAndWaitCancelable,
    CancelCaller,
    CancelWave,
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

/// <summary>
/// One batcher configuration plus the handler's script and the operations to run against it. Every feature can meet
/// every other in one sequence: the overflow policy, cancellation waves past the compaction threshold, flushes, retries
/// with delays, handler timeouts, weights and stop deadlines.
/// </summary>
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
    /// <summary>Gets the overflow policy (TryAdd, AddAsync and AddAndWaitAsync all meet it when the buffer is full).</summary>
    public OverflowPolicy Policy { get; init; } = OverflowPolicy.Wait;

    /// <summary>Gets the attempts a job gets in all (a <see cref="Behaviour.RetryFirst"/> job past them fails, retries exhausted).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Gets the whole milliseconds of every retry delay; each job adds its id in microseconds, so no two jobs re-enter at one instant.</summary>
    public int RetryBaseMs { get; init; } = 2;

    /// <summary>Gets the handler timeout in milliseconds, 0 for none. Only held batches outlive it.</summary>
    public int TimeoutMs { get; init; }

    /// <summary>Gets the batch delay: -1 means size only (infinite), 0 means no linger.</summary>
    public TimeSpan Delay => DelayMs < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(DelayMs);

    public bool Weighted => MaxWeight != long.MaxValue;

    /// <summary>Gets how many cancelled callers force a compaction of the queue today: more than max(1,024, Capacity).</summary>
    public int CompactionThreshold => Math.Max(1024, Capacity);

    public long WeightOf(int job) => Weighted ? Weights[Math.Abs(job) % Weights.Length] : 1;

    public Behaviour BehaviourOf(long batchId) => Behaviours[(int)((batchId - 1) % Behaviours.Length)];

    /// <summary>The retry delay of a job, in ticks: the base in milliseconds plus the job's id in microseconds.</summary>
    public long RetryDelayTicksOf(int job) => (RetryBaseMs * TimeSpan.TicksPerMillisecond) + (job * TimeSpan.TicksPerMicrosecond);

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"size={MaxBatchSize} delay={DelayMs}ms conc={MaxConcurrent} ");
        text.Append(CultureInfo.InvariantCulture, $"weight={(Weighted ? MaxWeight.ToString(CultureInfo.InvariantCulture) : "none")} cap={Capacity} adaptive={Adaptive} ");
        text.Append(CultureInfo.InvariantCulture, $"policy={Policy} attempts={MaxAttempts} retry={RetryBaseMs}ms+id timeout={TimeoutMs}ms ");
        text.Append(CultureInfo.InvariantCulture, $"weights=[{string.Join(',', Weights)}] handler=[{string.Join(',', Behaviours)}]");
        text.Append(" ops=[").Append(string.Join(", ", Ops)).Append(']');
        return text.ToString();
    }
}

/// <summary>The reason a <see cref="Behaviour.RetryFirst"/> handler gives for retrying a job; its retry delay depends on the job.</summary>
public sealed class RetryReasonException(int job) : Exception($"retry job {job}")
{
    public int Job { get; } = job;
}
