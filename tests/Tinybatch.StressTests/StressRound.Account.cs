namespace Tinybatch.StressTests;

/// <summary>Accounting: zero lost, zero duplicated, zero stuck.</summary>
public static class StressRoundAccount
{
    /// <summary>Checks every job of a finished round and returns the totals and the problems found.</summary>
    public static StressTotals Check(Batcher<long, long> batcher, StressLedger ledger, List<string> problems)
    {
        BatcherCounters c = batcher.Counters;
        long lost = 0;
        long duplicated = 0;
        var stuck = new List<long>();

        int Outcomes(long id) =>
            ledger.BatchOutcomes.GetValueOrDefault(id) > 0 ? ledger.BatchOutcomes[id] : ledger.StopDeadLetters.GetValueOrDefault(id);

        // Duplicates: no retries are configured, so the handler sees a job at most once and it completes once.
        foreach ((long id, int n) in ledger.HandlerSeen.Where(kv => kv.Value > 1))
        {
            duplicated++;
            problems.Add($"duplicated: job {id} reached the handler {n} times");
        }

        foreach ((long id, int n) in ledger.BatchOutcomes.Where(kv => kv.Value > 1).Concat(ledger.StopDeadLetters.Where(kv => kv.Value > 1)))
        {
            duplicated++;
            problems.Add($"duplicated: job {id} has {n} outcomes");
        }

        // Lost: dispatched but never completed, or accepted and never given an outcome.
        foreach (long id in ledger.HandlerSeen.Keys.Where(id => ledger.BatchOutcomes.GetValueOrDefault(id) == 0))
        {
            lost++;
            problems.Add($"lost: job {id} reached the handler but its batch never completed");
        }

        foreach (long id in ledger.AcceptedFireAndForget.Keys.Where(id => Outcomes(id) == 0))
        {
            lost++;
            problems.Add($"lost: fire-and-forget job {id} was accepted and has no outcome");
        }

        long refusedAwaited = 0;
        long cancelledWithoutOutcome = 0;
        foreach ((long id, Task<long> task) in ledger.Awaited)
        {
            if (!task.IsCompleted)
            {
                stuck.Add(id);
                continue;
            }

            if (task.IsCompletedSuccessfully)
            {
                if (task.Result != id * 2)
                {
                    problems.Add($"job {id} got the result {task.Result}, expected {id * 2}: results crossed");
                }

                if (Outcomes(id) != 1)
                {
                    lost++;
                    problems.Add($"job {id} returned a result but the batcher reported {Outcomes(id)} outcomes");
                }

                continue;
            }

            Exception? ex = task.IsCanceled ? null : task.Exception!.InnerException;
            if (task.IsCanceled || ex is OperationCanceledException)
            {
                // Cancelled while queued (counted as canceled), while waiting for space (never accepted), or after
                // dispatch (then the batch reports it).
                if (Outcomes(id) == 0)
                {
                    cancelledWithoutOutcome++;
                }
            }
            else if (ex is BatcherStoppedException && Outcomes(id) == 0)
            {
                refusedAwaited++;
            }
            else if (Outcomes(id) != 1)
            {
                lost++;
                problems.Add($"job {id} failed with {ex?.GetType().Name} but the batcher reported {Outcomes(id)} outcomes");
            }
        }

        if (stuck.Count > 0)
        {
            problems.Add($"stuck: {stuck.Count} awaiting callers never completed, ids {string.Join(',', stuck.Take(20))}");
        }

        long withOutcome = ledger.BatchOutcomes.Count + ledger.StopDeadLetters.Keys.Count(id => !ledger.BatchOutcomes.ContainsKey(id));
        if (c.Accepted != withOutcome + c.Canceled)
        {
            long missing = c.Accepted - withOutcome - c.Canceled;
            lost += Math.Max(0, missing);
            problems.Add($"counters: accepted={c.Accepted} but {withOutcome} jobs have an outcome and {c.Canceled} were cancelled while queued");
        }

        if (c.Canceled > cancelledWithoutOutcome)
        {
            problems.Add($"counters: canceled={c.Canceled} but only {cancelledWithoutOutcome} callers saw a cancellation without an outcome");
        }

        if (c.Rejected != ledger.RefusedAtAdd + refusedAwaited)
        {
            problems.Add($"counters: rejected={c.Rejected}, callers saw {ledger.RefusedAtAdd + refusedAwaited} refusals");
        }

        if (c.Accepted != c.Completed || c.Pending != 0 || c.InFlight != 0)
        {
            problems.Add($"counters do not add up after the stop: {c}");
        }

        return new StressTotals(c.Accepted, c.Succeeded, c.Failed, c.Canceled, c.Rejected, lost, duplicated, problems);
    }
}
