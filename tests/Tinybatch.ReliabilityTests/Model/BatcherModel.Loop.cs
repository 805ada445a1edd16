namespace Tinybatch.ReliabilityTests.Model;

/// <summary>The model's dispatch loop and what it does to a batch's jobs.</summary>
public sealed partial class BatcherModel
{
    private bool SlotFree => SlotsHeld < Scenario.MaxConcurrent;

    private long DelayTicks => Scenario.DelayMs * TimeSpan.TicksPerMillisecond;

    /// <summary>Runs the loop until it would sleep.</summary>
    private void Run()
    {
        while (!Abandoned && SlotFree && _queue.First is not null && IsDue())
        {
            Dispatch();
        }
    }

    private bool IsDue()
    {
        long count = _queue.Count;
        return Stopping
            || _queue.Any(j => j.Seq < _lastFlushSeq)
            || count >= Scenario.MaxBatchSize
            || (Scenario.Weighted && _queue.Sum(j => j.Weight) >= Scenario.MaxWeight)
            || (Scenario.Adaptive && SlotsHeld == 0)
            || Scenario.DelayMs == 0
            || (Scenario.DelayMs > 0 && Now - _queue.First!.Value.QueueTime >= DelayTicks);
    }

    /// <summary>The oldest queued job's deadline, when only time can make the next batch due and a slot is free.</summary>
    private long? DelayDeadline =>
        !Abandoned && SlotFree && Scenario.DelayMs > 0 && _queue.First is { } head && !IsDue()
            ? head.Value.QueueTime + DelayTicks
            : null;

    private void Dispatch()
    {
        var jobs = new List<ModelJob>();
        long weight = 0;

        // A batch never takes a job queued after a pending flush (one later than the head): that flush ends it.
        long head = _queue.First!.Value.QueueSeq;
        long flushLimit = Flushes.Where(f => f.Seq > head && !FlushComplete(f)).Select(f => f.Seq).DefaultIfEmpty(long.MaxValue).Min();
        for (LinkedListNode<ModelJob>? node = _queue.First; node is not null && jobs.Count < Scenario.MaxBatchSize; node = node.Next)
        {
            if (jobs.Count > 0 && node.Value.QueueSeq > flushLimit)
            {
                break;
            }

            if (Scenario.Weighted && jobs.Count > 0 && weight + node.Value.Weight > Scenario.MaxWeight)
            {
                break;
            }

            weight += node.Value.Weight;
            jobs.Add(node.Value);
        }

        if (_wokenJob is { } woken && jobs.Contains(woken) && WouldBeCutWithout(woken))
        {
            // The woken waiter's job arrives on another thread while this batch, due without it, is cut: the real
            // batcher may cut before it arrives. The driver avoids such steps (see RealBatcherDriver).
            Ambiguous = true;
        }

        for (int i = 0; i < jobs.Count; i++)
        {
            _queue.RemoveFirst();
        }

        var batch = new ModelBatch(++_lastBatchId, jobs, Scenario.BehaviourOf(_lastBatchId), Now);
        Batches.Add(batch);
        foreach (ModelJob job in jobs)
        {
            job.Place = JobPlace.InHandler;
            job.Attempts++;
        }

        if (batch.Behaviour is Behaviour.Hold or Behaviour.HoldThenThrow)
        {
            batch.Held = true;
            return;
        }

        Resolve(batch, batch.Behaviour);
    }

    /// <summary>Whether, without <paramref name="woken"/> in the queue, a batch would be due now (and so could be cut before it arrives).</summary>
    private bool WouldBeCutWithout(ModelJob woken)
    {
        LinkedListNode<ModelJob> node = _queue.Find(woken)!;
        LinkedListNode<ModelJob>? next = node.Next;
        _queue.Remove(node);
        bool due = _queue.First is not null && IsDue();
        if (next is null)
        {
            _queue.AddLast(node);
        }
        else
        {
            _queue.AddBefore(next, node);
        }

        return due;
    }

    private void Resolve(ModelBatch batch, Behaviour behaviour)
    {
        for (int i = 0; i < batch.Jobs.Count; i++)
        {
            ModelJob job = batch.Jobs[i];
            if (job.IsFinal)
            {
                continue;
            }

            switch (behaviour)
            {
                case Behaviour.Succeed:
                    SetFinal(job, Outcome.Succeeded(job.Id * 10), null);
                    break;
                case Behaviour.Throw:
                    SetFinal(job, Outcome.Failed(typeof(InjectedFailureException)), DeadLetterReason.Failed);
                    break;
                case Behaviour.WrongCount:
                    SetFinal(job, Outcome.Failed(typeof(BatchResultCountException)), DeadLetterReason.Failed);
                    break;
                case Behaviour.FailOdd when job.Id % 2 == 0:
                    SetFinal(job, Outcome.Succeeded(job.Id * 10), null);
                    break;
                case Behaviour.FailOdd:
                    SetFinal(job, Outcome.Failed(typeof(InjectedFailureException)), DeadLetterReason.Failed);
                    break;
                case Behaviour.Forget:
                    SetFinal(job, Outcome.Failed(typeof(InvalidOperationException)), DeadLetterReason.Failed);
                    break;
                case Behaviour.RetryFirst when i > 0:
                    SetFinal(job, Outcome.Succeeded(job.Id * 10), null);
                    break;
                case Behaviour.RetryFirst when job.Attempts < Scenario.MaxAttempts:
                    job.Place = JobPlace.WaitingForRetry;
                    job.RetryDue = Now + Scenario.RetryDelayTicksOf(job.Id);
                    Retried++;
                    break;
                case Behaviour.RetryFirst:
                    SetFinal(job, Outcome.Failed(typeof(RetryReasonException)), DeadLetterReason.RetriesExhausted);
                    break;
                default:
                    throw new InvalidOperationException($"Behaviour {behaviour} does not resolve.");
            }
        }
    }

    private void SetFinal(ModelJob job, Outcome outcome, DeadLetterReason? letter, bool counts = true)
    {
        job.Place = JobPlace.Final;
        job.Batcher = outcome;
        job.Letter = letter;
        if (counts)
        {
            if (outcome.Result is not null)
            {
                Succeeded++;
            }
            else
            {
                Failed++;
            }
        }

        if (job.Awaited && !job.Caller.IsSet)
        {
            job.Caller = outcome;
        }

        PlaceFreed();
    }

    private ModelJob? _wokenJob;

    /// <summary>A final outcome (or a cancellation) gave a place back: a waiting add takes it.</summary>
    private void PlaceFreed()
    {
        if (Stopping || IsFull || Waiting is not { } waiter)
        {
            return;
        }

        waiter.Add = Outcome.Accepted;
        waiter.Job = Accept(waiter.Id, waiter.Awaited, cancelable: waiter.Awaited && waiter.Cancelable);
        _wokenJob = waiter.Job;
    }

    /// <summary>Ends an operation: a woken waiter's job no longer races anything.</summary>
    public void EndOperation() => _wokenJob = null;
}
