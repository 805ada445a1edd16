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

    /// <summary>
    /// Moves the clock to <paramref name="instant"/>, once for every order in which the retried jobs due at that very
    /// instant can re-enter: their timers fire at one instant, and the contract does not order them (on the system clock
    /// they fire on pool threads in any order). Returns this model, advanced in the order of the jobs' ids, then one copy
    /// per other order.
    /// </summary>
    public List<BatcherModel> AdvanceToEachOrder(long instant)
    {
        List<int> tied = [.. Jobs.Where(j => j.Place == JobPlace.WaitingForRetry && j.RetryDue == instant && !Abandoned).Select(j => j.Id)];
        List<List<int>> orders = tied.Count > 1 ? Permutations(tied) : [tied];
        var ways = new List<BatcherModel>(orders.Count);
        foreach (List<int> order in orders.Skip(1))
        {
            BatcherModel copy = Clone();
            copy.AdvanceTo(instant, order);
            ways.Add(copy);
        }

        AdvanceTo(instant, orders[0]);
        ways.Insert(0, this);
        return ways;

        static List<List<int>> Permutations(List<int> ids) =>
            ids.Count <= 1
                ? [ids]
                : [.. ids.SelectMany(first => Permutations([.. ids.Where(id => id != first)]).Select(rest => (List<int>)[first, .. rest]))];
    }

    /// <summary>
    /// Moves the clock to <paramref name="instant"/> and fires what is due then: timeouts, then retry re-entries, by due
    /// time; those due at one instant in <paramref name="tieOrder"/> (job ids), or else in the order of their ids.
    /// </summary>
    public void AdvanceTo(long instant, IReadOnlyList<int>? tieOrder = null)
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

        foreach (ModelJob job in Jobs.Where(j => j.Place == JobPlace.WaitingForRetry && j.RetryDue <= Now).OrderBy(j => j.RetryDue).ThenBy(j => tieOrder is null ? 0 : IndexIn(tieOrder, j.Id)).ToList())
        {
            job.Place = JobPlace.Queued;
            job.QueueSeq = _seq++;
            job.QueueTime = Now;
            _queue.AddLast(job);
            Run();
        }

        Run();
    }

    private static int IndexIn(IReadOnlyList<int> ids, int id)
    {
        for (int i = 0; i < ids.Count; i++)
        {
            if (ids[i] == id)
            {
                return i;
            }
        }

        return ids.Count;
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
