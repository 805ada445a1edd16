namespace Tinybatch.ReliabilityTests.Model;

/// <summary>The model's dispatch loop.</summary>
public sealed partial class BatcherModel
{
    private bool SlotFree => HeldCount < Scenario.MaxConcurrent;

    /// <summary>Runs the loop until it would sleep.</summary>
    private void Run()
    {
        while (!Abandoned)
        {
            if (_carry is null && !TakeHead())
            {
                return;
            }

            if (!SlotFree || !IsDue())
            {
                return;
            }

            Dispatch();
        }
    }

    /// <summary>The oldest live job becomes the carry; markers and cancelled jobs before it are consumed.</summary>
    private bool TakeHead()
    {
        while (_queue.First is { } node)
        {
            _queue.RemoveFirst();
            if (node.Value is ModelFlush)
            {
                _markersQueued--;
                continue;
            }

            var job = (ModelJob)node.Value;
            if (job.QueuedCancel)
            {
                continue;
            }

            // A carry keeps its place (and its timestamp) even if its caller cancels later.
            _carry = job;
            return true;
        }

        return false;
    }

    private bool IsDue()
    {
        if (_markersQueued > 0 || Stopping || Pending >= Scenario.MaxBatchSize
            || (Scenario.Weighted && PendingWeight >= Scenario.MaxWeight)
            || (Scenario.Adaptive && HeldCount == 0) || Scenario.DelayMs == 0)
        {
            return true;
        }

        return Scenario.DelayMs > 0 && Now - _carry!.Time >= Scenario.DelayMs;
    }

    private void Dispatch()
    {
        ModelJob first = _carry!;
        _carry = null;

        // A carry whose caller cancelled takes no place and no weight in the batch; it keeps only its timestamp role.
        var kept = new List<ModelJob>();
        long weight = 0;
        if (!first.QueuedCancel)
        {
            kept.Add(first);
            weight = first.Weight;
        }

        while (kept.Count < Scenario.MaxBatchSize && _queue.First is { } node)
        {
            _queue.RemoveFirst();
            if (node.Value is ModelFlush)
            {
                _markersQueued--;
                break;
            }

            var job = (ModelJob)node.Value;
            if (job.QueuedCancel)
            {
                continue;
            }

            if (Scenario.Weighted && weight + job.Weight > Scenario.MaxWeight)
            {
                _carry = job;
                break;
            }

            weight += job.Weight;
            kept.Add(job);
        }

        if (kept.Count == 0)
        {
            return;
        }

        var batch = new ModelBatch(++_lastBatchId, kept, Scenario.BehaviourOf(_lastBatchId));
        Batches.Add(batch);
        foreach (ModelJob job in kept)
        {
            job.Dispatched = true;
        }

        if (batch.Behaviour is Behaviour.Hold or Behaviour.HoldThenThrow)
        {
            batch.Held = true;
            return;
        }

        Resolve(batch, batch.Behaviour);
    }

    private void Resolve(ModelBatch batch, Behaviour behaviour)
    {
        foreach (ModelJob job in batch.Jobs)
        {
            Outcome outcome = behaviour switch
            {
                Behaviour.Succeed => Outcome.Succeeded(job.Id * 10),
                Behaviour.Throw => Outcome.Failed(typeof(InjectedFailureException)),
                Behaviour.WrongCount => Outcome.Failed(typeof(BatchResultCountException)),
                Behaviour.FailOdd => job.Id % 2 == 0 ? Outcome.Succeeded(job.Id * 10) : Outcome.Failed(typeof(InjectedFailureException)),
                Behaviour.Forget => Outcome.Failed(typeof(InvalidOperationException)),
                _ => throw new InvalidOperationException($"Behaviour {behaviour} does not resolve."),
            };
            SetOutcome(job, outcome);
        }
    }

    private void SetOutcome(ModelJob job, Outcome outcome)
    {
        job.Batcher = outcome;
        if (outcome.Result is not null)
        {
            Succeeded++;
        }
        else
        {
            Failed++;
        }

        if (job.Awaited && !job.Caller.IsSet)
        {
            job.Caller = outcome;
        }
    }
}
