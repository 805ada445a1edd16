namespace Tinybatch.ReliabilityTests.Model;

/// <summary>The model's timers (retry re-entries, handler timeouts, the batch delay) and its copy for dry runs.</summary>
public sealed partial class BatcherModel
{
    /// <summary>The earliest instant (ticks) at which a timer fires, if any: a retry re-entry, a handler timeout, or the batch delay.</summary>
    public long? NextEvent()
    {
        long? next = DelayDeadline;
        foreach (ModelJob job in Jobs.Where(j => j.Place == JobPlace.WaitingForRetry && !Abandoned))
        {
            next = next is { } n ? Math.Min(n, job.RetryDue) : job.RetryDue;
        }

        if (Scenario.TimeoutMs > 0)
        {
            foreach (ModelBatch batch in Batches.Where(b => b.HoldsSlot))
            {
                long due = batch.DispatchTime + (Scenario.TimeoutMs * TimeSpan.TicksPerMillisecond);
                next = next is { } n ? Math.Min(n, due) : due;
            }
        }

        return next;
    }

    /// <summary>Moves the clock to <paramref name="instant"/> and fires what is due then: timeouts, then retry re-entries.</summary>
    public void AdvanceTo(long instant)
    {
        Now = instant;
        if (Abandoned)
        {
            return;
        }

        if (Scenario.TimeoutMs > 0)
        {
            foreach (ModelBatch batch in Batches.Where(b => b.HoldsSlot && b.DispatchTime + (Scenario.TimeoutMs * TimeSpan.TicksPerMillisecond) <= Now).ToList())
            {
                batch.GivenUp = true;
                TimedOut++;
                foreach (ModelJob job in batch.Jobs.Where(j => !j.IsFinal))
                {
                    SetFinal(job, Outcome.Failed(typeof(TimeoutException)), DeadLetterReason.TimedOut);
                }

                Run();
            }
        }

        foreach (ModelJob job in Jobs.Where(j => j.Place == JobPlace.WaitingForRetry && j.RetryDue <= Now).OrderBy(j => j.RetryDue).ToList())
        {
            job.Place = JobPlace.Queued;
            job.QueueSeq = _seq++;
            job.QueueTime = Now;
            _queue.AddLast(job);
            Run();
        }

        Run();
    }

    /// <summary>Whether two timers fire at the same instant at or before <paramref name="until"/>, one of them a re-entry (order open).</summary>
    public bool HasTieBefore(long until)
    {
        var instants = new List<(long At, bool Arrival)>();
        if (DelayDeadline is { } deadline)
        {
            instants.Add((deadline, false));
        }

        instants.AddRange(Jobs.Where(j => j.Place == JobPlace.WaitingForRetry).Select(j => (j.RetryDue, true)));
        if (Scenario.TimeoutMs > 0)
        {
            instants.AddRange(Batches.Where(b => b.HoldsSlot).Select(b => (b.DispatchTime + (Scenario.TimeoutMs * TimeSpan.TicksPerMillisecond), false)));
        }

        return instants.Where(i => i.At <= until).GroupBy(i => i.At).Any(g => g.Count() > 1 && g.Any(i => i.Arrival));
    }

    /// <summary>A deep copy, to try an operation before doing it (see <see cref="Ambiguous"/>).</summary>
    public BatcherModel Clone()
    {
        var copy = new BatcherModel(Scenario)
        {
            Now = Now,
            NextId = NextId,
            Stopping = Stopping,
            Abandoned = Abandoned,
            Accepted = Accepted,
            Succeeded = Succeeded,
            Failed = Failed,
            Canceled = Canceled,
            Dropped = Dropped,
            Rejected = Rejected,
            Retried = Retried,
            TimedOut = TimedOut,
            Evictions = Evictions,
            Waves = Waves,
            Compactions = Compactions,
        };
        copy._lastBatchId = _lastBatchId;
        copy._seq = _seq;
        copy._lastFlushSeq = _lastFlushSeq;
        var jobs = new Dictionary<ModelJob, ModelJob>();
        foreach (ModelJob job in Jobs)
        {
            var c = new ModelJob(job.Id, job.Seq, job.Weight, job.Awaited, job.Cancelable)
            {
                Place = job.Place,
                QueueSeq = job.QueueSeq,
                QueueTime = job.QueueTime,
                Attempts = job.Attempts,
                RetryDue = job.RetryDue,
                QueuedCancel = job.QueuedCancel,
                Batcher = job.Batcher,
                Letter = job.Letter,
                Caller = job.Caller,
            };
            jobs[job] = c;
            copy.Jobs.Add(c);
        }

        foreach (ModelJob job in _queue)
        {
            copy._queue.AddLast(jobs[job]);
        }

        foreach (ModelBatch batch in Batches)
        {
            copy.Batches.Add(new ModelBatch(batch.Id, [.. batch.Jobs.Select(j => jobs[j])], batch.Behaviour, batch.DispatchTime) { Held = batch.Held, GivenUp = batch.GivenUp });
        }

        foreach (ModelFlush flush in Flushes)
        {
            copy.Flushes.Add(new ModelFlush(flush.Index, flush.Seq, [.. flush.Before.Select(j => jobs[j])]));
        }

        copy.Refused.AddRange(Refused);
        foreach (ModelWaiter waiter in Waiters)
        {
            copy.Waiters.Add(new ModelWaiter(waiter.Id, waiter.Awaited, waiter.Cancelable) { Job = waiter.Job is null ? null : jobs[waiter.Job], Add = waiter.Add });
        }

        return copy;
    }
}
