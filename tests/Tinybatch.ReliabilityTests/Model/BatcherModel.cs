namespace Tinybatch.ReliabilityTests.Model;

/// <summary>The outcome a caller (or the batcher) sees for one job, reduced to what the model can predict.</summary>
public readonly record struct Outcome(string Kind, int? Result = null)
{
    public static readonly Outcome None = new("none");
    public static readonly Outcome Canceled = new("canceled");
    public static readonly Outcome Accepted = new("accepted");

    public static Outcome Succeeded(int result) => new("ok", result);

    public static Outcome Failed(Type exceptionType) => new("failed:" + exceptionType.Name);

    public bool IsSet => Kind != "none";

    public override string ToString() => Result is null ? Kind : $"{Kind}={Result}";
}

/// <summary>Where a job is, as the model tracks it.</summary>
public enum JobPlace
{
    Queued,
    InHandler,
    WaitingForRetry,
    Final,
}

/// <summary>An accepted job as the model tracks it.</summary>
public sealed class ModelJob(int id, long seq, long weight, bool awaited, bool cancelable)
{
    public int Id { get; } = id;

    /// <summary>Gets the job's place in the order of acceptances and flushes: a flush waits for every job with a smaller one.</summary>
    public long Seq { get; } = seq;

    /// <summary>Gets or sets the job's place in that order as last queued: its <see cref="Seq"/>, or a new one when a retry re-entered it at the tail.</summary>
    public long QueueSeq { get; set; } = seq;

    public long Weight { get; } = weight;

    public bool Awaited { get; } = awaited;

    public bool Cancelable { get; } = cancelable;

    public JobPlace Place { get; set; } = JobPlace.Queued;

    /// <summary>Gets or sets when the job last entered the queue (its add, or its return from a retry delay), in ticks.</summary>
    public long QueueTime { get; set; }

    public int Attempts { get; set; }

    /// <summary>Gets or sets when a job waiting for its retry re-enters the queue, in ticks.</summary>
    public long RetryDue { get; set; }

    /// <summary>Gets or sets whether the caller cancelled while the job was still queued.</summary>
    public bool QueuedCancel { get; set; }

    /// <summary>Gets or sets the batcher-side outcome (what the counters and callbacks report).</summary>
    public Outcome Batcher { get; set; } = Outcome.None;

    /// <summary>Gets or sets the reason of the job's dead letter, if its outcome makes one.</summary>
    public DeadLetterReason? Letter { get; set; }

    /// <summary>Gets or sets what the awaiting caller sees.</summary>
    public Outcome Caller { get; set; } = Outcome.None;

    public bool IsFinal => Place == JobPlace.Final;
}

/// <summary>A dispatched batch as the model tracks it.</summary>
public sealed record ModelBatch(long Id, List<ModelJob> Jobs, Behaviour Behaviour, long DispatchTime)
{
    /// <summary>Gets or sets whether its handler call is still running (held): a held batch keeps its slot unless it timed out or was abandoned.</summary>
    public bool Held { get; set; }

    /// <summary>Gets or sets whether the batch was given up on (handler timeout or stop deadline): its slot is free, its handler may still run.</summary>
    public bool GivenUp { get; set; }

    public bool HoldsSlot => Held && !GivenUp;
}

/// <summary>A flush call: complete exactly when every job accepted before it has its final outcome.</summary>
public sealed record ModelFlush(int Index, long Seq, List<ModelJob> Before);

/// <summary>An add that waits for space (OverflowPolicy.Wait, buffer full): at most one at a time in a sequence.</summary>
public sealed class ModelWaiter(int id, bool awaited, bool cancelable)
{
    public int Id { get; } = id;

    public bool Awaited { get; } = awaited;

    /// <summary>Gets whether the add was given a token its caller can cancel: only then can the wait (and, once woken, the caller) be cancelled.</summary>
    public bool Cancelable { get; } = cancelable;

    /// <summary>Gets or sets the job once it got its place.</summary>
    public ModelJob? Job { get; set; }

    /// <summary>Gets or sets how the add itself ended: accepted, cancelled, or refused by the stop.</summary>
    public Outcome Add { get; set; } = Outcome.None;
}

/// <summary>
/// A small deterministic reference of the batching contract for one configuration. It replays what the batcher must do
/// when it is quiescent after each operation. Capacity counts every accepted job until its final outcome (queued, in a
/// handler call, or waiting for a retry); a caller cancelling while queued frees its place at once. Batches are cut FIFO
/// from the queue, at most MaxBatchSize jobs and MaxBatchWeight weight, when due: full (count or weight), a flush waiting
/// for a queued job, a stop, zero delay, adaptive idleness, or the oldest queued job's delay. A batch stops before a
/// job queued after a pending flush. A retried job re-enters at the tail after its delay. DropOldest evicts the oldest
/// queued job (none in a handler or waiting out a retry delay); with none queued the new job is dropped. A handler timeout fails its batch's jobs with
/// TimeoutException; a stop deadline fails everything unfinished with BatcherStoppedException.
/// </summary>
public sealed partial class BatcherModel(Scenario scenario)
{
    private readonly LinkedList<ModelJob> _queue = new();
    private long _lastBatchId;
    private long _seq;
    private long _lastFlushSeq = -1;

    public Scenario Scenario { get; } = scenario;

    /// <summary>Gets the model's clock, in ticks from the start.</summary>
    public long Now { get; private set; }

    public List<ModelJob> Jobs { get; } = [];

    public List<ModelBatch> Batches { get; } = [];

    public List<ModelFlush> Flushes { get; } = [];

    /// <summary>Gets the ids of adds that were refused, with the dead letter each one makes (none for TryAdd).</summary>
    public List<(int Id, DeadLetterReason? Letter)> Refused { get; } = [];

    public List<ModelWaiter> Waiters { get; } = [];

    public ModelWaiter? Waiting => Waiters.LastOrDefault(w => !w.Add.IsSet);

    /// <summary>Gets the oldest queued job, whose add (or re-entry) time starts the batch delay.</summary>
    public ModelJob? QueueHead => _queue.First?.Value;

    /// <summary>Gets the next job id: every add attempt takes one, accepted or not.</summary>
    public int NextId { get; private set; }

    public bool Stopping { get; private set; }

    public bool Abandoned { get; private set; }

    public long Accepted { get; private set; }

    public long Succeeded { get; private set; }

    public long Failed { get; private set; }

    public long Canceled { get; private set; }

    public long Dropped { get; private set; }

    public long Rejected { get; private set; }

    public long Retried { get; private set; }

    public long TimedOut { get; private set; }

    /// <summary>Gets whether the last operation woke a space waiter whose job could race a cut (the real order is open).</summary>
    public bool Ambiguous { get; private set; }

    public int SlotsHeld => Batches.Count(b => b.HoldsSlot);

    /// <summary>Gets the accepted jobs without a final outcome: what Capacity counts.</summary>
    public long Live => Jobs.Count(j => !j.IsFinal);

    public long InHandler => Jobs.Count(j => j.Place == JobPlace.InHandler);

    public bool IsFull => Live >= Scenario.Capacity;

    /// <summary>Gets whether the batcher has stopped: stopping, every job final, no handler holding a slot.</summary>
    public bool Stopped => Stopping && SlotsHeld == 0 && Jobs.All(j => j.IsFinal);

    /// <summary>A one-line state for failure messages.</summary>
    public string Describe() =>
        $"now={Now / TimeSpan.TicksPerMillisecond}ms stopping={Stopping} held=[{string.Join(',', Batches.Where(b => b.HoldsSlot).Select(b => b.Id))}] "
        + $"queue=[{string.Join(',', _queue.Select(j => j.Id))}] retrying=[{string.Join(',', Jobs.Where(j => j.Place == JobPlace.WaitingForRetry).Select(j => j.Id))}] "
        + $"live={Live} waiter={Waiting?.Id}";

    public bool FlushComplete(ModelFlush flush) => flush.Before.All(j => j.IsFinal);

    /// <summary>Starts an operation: clears the ambiguity flag.</summary>
    public void BeginOperation() => Ambiguous = false;

    /// <summary>An add of any kind. Returns the job, or null when it was refused, dropped, or waits for space.</summary>
    public ModelJob? Add(AddKind kind, bool cancelable, out AddResult result)
    {
        int id = NextId++;
        bool awaited = kind == AddKind.AddAndWait;
        if (Stopping)
        {
            Rejected++;
            Refused.Add((id, null));
            result = kind == AddKind.TryAdd ? AddResult.Refused : AddResult.ThrowsStopped;
            return null;
        }

        if (IsFull)
        {
            switch (Scenario.Policy)
            {
                case OverflowPolicy.DropOldest when _queue.First is { } oldest:
                    Evict(oldest.Value);
                    break;
                case OverflowPolicy.Wait when kind != AddKind.TryAdd:
                    Waiters.Add(new ModelWaiter(id, awaited, cancelable));
                    result = AddResult.Waits;
                    return null;
                default:
                    Rejected++;
                    (result, DeadLetterReason? letter) = (kind, Scenario.Policy) switch
                    {
                        (AddKind.TryAdd, _) => (AddResult.Refused, (DeadLetterReason?)null),
                        (_, OverflowPolicy.Reject) => (AddResult.ThrowsFull, DeadLetterReason.Rejected),
                        (AddKind.AddAndWait, _) => (AddResult.ThrowsDropped, DeadLetterReason.Dropped),
                        _ => (AddResult.DroppedSilently, DeadLetterReason.Dropped),
                    };
                    Refused.Add((id, letter));
                    return null;
            }
        }

        result = AddResult.Accepted;
        ModelJob job = Accept(id, awaited, cancelable);
        Run();
        return job;
    }

    private ModelJob Accept(int id, bool awaited, bool cancelable)
    {
        var job = new ModelJob(id, _seq++, Scenario.WeightOf(id), awaited, cancelable) { QueueTime = Now };
        Jobs.Add(job);
        Accepted++;
        _queue.AddLast(job);
        return job;
    }

    /// <summary>DropOldest: the oldest queued job makes room; its caller gets JobDroppedException.</summary>
    private void Evict(ModelJob oldest)
    {
        _queue.Remove(oldest);
        Dropped++;
        Evictions++;
        SetFinal(oldest, Outcome.Failed(typeof(JobDroppedException)), DeadLetterReason.Dropped, counts: false);
    }

    /// <summary>Gets how many jobs DropOldest evicted.</summary>
    public int Evictions { get; private set; }

    /// <summary>
    /// A wave of callers that each add and cancel while queued, as one step: each takes a free place and gives it back at
    /// once. Only the counters see them; today's engine compacts its queue once more than the threshold cancelled.
    /// </summary>
    public void CancelWave(int count)
    {
        Accepted += count;
        Canceled += count;
        Waves++;
        if (count > Scenario.CompactionThreshold)
        {
            Compactions++;
        }
    }

    /// <summary>Gets how many cancellation waves ran, and how many of them passed today's compaction threshold.</summary>
    public int Waves { get; private set; }

    public int Compactions { get; private set; }

    public ModelFlush Flush()
    {
        var flush = new ModelFlush(Flushes.Count, _seq++, Jobs.Where(j => !j.IsFinal).ToList());
        Flushes.Add(flush);
        _lastFlushSeq = flush.Seq;
        Run();
        return flush;
    }

    /// <summary>The caller of an awaited job cancels; a queued job gives its place back at once.</summary>
    public void CancelCaller(ModelJob job)
    {
        if (job.Caller.IsSet)
        {
            return;
        }

        job.Caller = Outcome.Canceled;
        if (job.Place == JobPlace.Queued)
        {
            _queue.Remove(job);
            job.QueuedCancel = true;
            job.Place = JobPlace.Final;
            job.Batcher = Outcome.Canceled;
            Canceled++;
            PlaceFreed();
        }

        Run();
    }

    /// <summary>A waiting add is cancelled before it got its place.</summary>
    public void CancelWaiter(ModelWaiter waiter)
    {
        waiter.Add = Outcome.Canceled;
        Run();
    }

    /// <summary>A held batch's handler is released and finishes as its behaviour says (nothing, if it was given up on).</summary>
    public void Release(ModelBatch batch)
    {
        batch.Held = false;
        if (!batch.GivenUp && !Abandoned)
        {
            Resolve(batch, batch.Behaviour == Behaviour.HoldThenThrow ? Behaviour.Throw : Behaviour.Succeed);
        }

        Run();
    }

    public void BeginStop()
    {
        Stopping = true;
        if (Waiting is { } waiter)
        {
            waiter.Add = Outcome.Failed(typeof(BatcherStoppedException));
            Rejected++;
            Refused.Add((waiter.Id, null));
        }

        Run();
    }

    /// <summary>The stop deadline expires: everything without an outcome fails with BatcherStoppedException.</summary>
    public void Abandon()
    {
        if (Stopped)
        {
            return;
        }

        Abandoned = true;
        foreach (ModelJob job in Jobs.Where(j => !j.IsFinal))
        {
            SetFinal(job, Outcome.Failed(typeof(BatcherStoppedException)), DeadLetterReason.Stopped);
        }

        foreach (ModelBatch batch in Batches.Where(b => b.HoldsSlot))
        {
            batch.GivenUp = true;
        }

        _queue.Clear();
    }
}

public enum AddKind
{
    TryAdd,
    AddAsync,
    AddAndWait,
}

public enum AddResult
{
    Accepted,
    Refused,
    Waits,
    ThrowsStopped,
    ThrowsFull,
    ThrowsDropped,
    DroppedSilently,
}
