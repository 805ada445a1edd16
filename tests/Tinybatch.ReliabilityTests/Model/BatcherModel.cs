namespace Tinybatch.ReliabilityTests.Model;

/// <summary>The outcome a caller (or the batcher) sees for one job, reduced to what the model can predict.</summary>
public readonly record struct Outcome(string Kind, int? Result = null)
{
    public static readonly Outcome None = new("none");
    public static readonly Outcome Canceled = new("canceled");

    public static Outcome Succeeded(int result) => new("ok", result);

    public static Outcome Failed(Type exceptionType) => new("failed:" + exceptionType.Name);

    public bool IsSet => Kind != "none";

    public override string ToString() => Result is null ? Kind : $"{Kind}={Result}";
}

/// <summary>A job as the model tracks it.</summary>
public sealed class ModelJob(int id, long time, long weight, bool awaited, bool cancelable)
{
    public int Id { get; } = id;

    public long Time { get; } = time;

    public long Weight { get; } = weight;

    public bool Awaited { get; } = awaited;

    public bool Cancelable { get; } = cancelable;

    /// <summary>Gets or sets whether the caller cancelled while the job was still queued.</summary>
    public bool QueuedCancel { get; set; }

    public bool Dispatched { get; set; }

    /// <summary>Gets or sets the batcher-side outcome (what the counters and callbacks report).</summary>
    public Outcome Batcher { get; set; } = Outcome.None;

    /// <summary>Gets or sets what the awaiting caller sees.</summary>
    public Outcome Caller { get; set; } = Outcome.None;
}

/// <summary>A dispatched batch as the model tracks it.</summary>
public sealed record ModelBatch(long Id, List<ModelJob> Jobs, Behaviour Behaviour)
{
    public bool Held { get; set; }
}

/// <summary>A flush call: complete exactly when every job accepted before it has its batcher-side outcome.</summary>
public sealed record ModelFlush(int Index, List<ModelJob> Before);

/// <summary>
/// A small deterministic reference of the batching contract for one configuration. It replays what the dispatch loop
/// must do when the batcher is quiescent after each operation: cut batches FIFO, at most MaxBatchSize jobs and
/// MaxBatchWeight weight, due on size, weight, flush, stop, zero delay, adaptive idleness or the first job's delay.
/// </summary>
public sealed partial class BatcherModel(Scenario scenario)
{
    private readonly LinkedList<object> _queue = new();
    private ModelJob? _carry;
    private int _markersQueued;
    private long _lastBatchId;

    public Scenario Scenario { get; } = scenario;

    public long Now { get; private set; }

    public List<ModelJob> Jobs { get; } = [];

    public List<ModelBatch> Batches { get; } = [];

    public List<ModelFlush> Flushes { get; } = [];

    public bool Stopping { get; private set; }

    public bool Abandoned { get; private set; }

    public long Accepted { get; private set; }

    public long Succeeded { get; private set; }

    public long Failed { get; private set; }

    public long Canceled { get; private set; }

    public long Rejected { get; private set; }

    public int HeldCount => Batches.Count(b => b.Held);

    public long InFlightJobs => Batches.Where(b => b.Held).Sum(b => b.Jobs.Count);

    public long Pending => Jobs.Count(j => !j.Dispatched && !j.Batcher.IsSet);

    public long PendingWeight => Jobs.Where(j => !j.Dispatched && !j.Batcher.IsSet).Sum(j => j.Weight);

    /// <summary>Gets whether the batcher has stopped: stopping and every job has its outcome, no batch held.</summary>
    public bool Stopped => Stopping && HeldCount == 0 && Jobs.All(j => j.Batcher.IsSet);

    public bool IsFull => Pending >= Scenario.Capacity;

    /// <summary>A one-line state for failure messages.</summary>
    public string Describe() =>
        $"now={Now} stopping={Stopping} held=[{string.Join(',', Batches.Where(b => b.Held).Select(b => b.Id))}] "
        + $"unresolved=[{string.Join(',', Jobs.Where(j => !j.Batcher.IsSet).Select(j => j.Id))}] carry={_carry?.Id} queue={_queue.Count} markers={_markersQueued}";

    public bool FlushComplete(ModelFlush flush) => flush.Before.All(j => j.Batcher.IsSet);

    /// <summary>A fire-and-forget or awaited add. Returns the job, or null when refused (full or stopping).</summary>
    public ModelJob? Add(bool awaited, bool cancelable, out bool refusedByStop)
    {
        refusedByStop = Stopping;
        if (Stopping || IsFull)
        {
            Rejected++;
            return null;
        }

        var job = new ModelJob(Jobs.Count, Now, Scenario.WeightOf(Jobs.Count), awaited, cancelable);
        Jobs.Add(job);
        Accepted++;
        _queue.AddLast(job);
        Run();
        return job;
    }

    public ModelFlush Flush()
    {
        var flush = new ModelFlush(Flushes.Count, Jobs.Where(j => !j.Batcher.IsSet).ToList());
        Flushes.Add(flush);
        if (!Stopped)
        {
            _queue.AddLast(flush);
            _markersQueued++;
        }

        Run();
        return flush;
    }

    public void Advance(int ms)
    {
        Now += ms;
        Run();
    }

    /// <summary>The caller of an awaited job cancels.</summary>
    public void CancelCaller(ModelJob job)
    {
        if (job.Caller.IsSet)
        {
            return;
        }

        job.Caller = Outcome.Canceled;
        if (!job.Dispatched && !job.Batcher.IsSet)
        {
            job.QueuedCancel = true;
            job.Batcher = Outcome.Canceled;
            Canceled++;
        }

        Run();
    }

    /// <summary>A held batch's handler is released and finishes as its behaviour says.</summary>
    public void Release(ModelBatch batch)
    {
        batch.Held = false;
        Resolve(batch, batch.Behaviour == Behaviour.HoldThenThrow ? Behaviour.Throw : Behaviour.Succeed);
        Run();
    }

    public void BeginStop()
    {
        Stopping = true;
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
        foreach (ModelJob job in Jobs.Where(j => !j.Batcher.IsSet))
        {
            SetOutcome(job, Outcome.Failed(typeof(BatcherStoppedException)));
        }

        foreach (ModelBatch batch in Batches)
        {
            batch.Held = false;
        }

        _queue.Clear();
        _carry = null;
        _markersQueued = 0;
    }
}
