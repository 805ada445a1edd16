using System.Diagnostics;

namespace Tinybatch.ReliabilityTests.Model;

/// <summary>Waiting for quiescence and comparing the real batcher with the model and the invariants.</summary>
public sealed partial class RealBatcherDriver
{
    /// <summary>
    /// Waits until the batcher has done what the model predicts for this step and its loop sleeps. With no batch held,
    /// the test hook WhenIdleAsync is the barrier; with a batch held it cannot be (it waits for an empty pipeline), so
    /// the loop's sleep flags are read instead.
    /// </summary>
    private async Task QuiesceAsync(string label)
    {
        var clock = Stopwatch.StartNew();
        int spins = 0;
        while (Divergence() is { } divergence)
        {
            if (clock.Elapsed > Guard)
            {
                throw new ModelMismatchException($"{label}: the batcher never reached the model's state: {divergence}");
            }

            if (++spins < 200)
            {
                await Task.Yield();
            }
            else
            {
                await Task.Delay(1);
            }
        }

        if (_model.Stopped)
        {
            await WithGuard(_batcher.Completion, label, "Completion");
        }
        else if (_model.HeldCount == 0)
        {
            await WithGuard(_batcher.WhenIdleAsync(), label, "WhenIdleAsync");
        }
        else
        {
            int calm = 0;
            while (calm < 3)
            {
                calm = LoopProbe.Asleep(_batcher) ? calm + 1 : 0;
                if (clock.Elapsed > Guard)
                {
                    throw new ModelMismatchException($"{label}: the dispatch loop never went to sleep.");
                }

                await Task.Yield();
            }
        }
    }

    private static async Task WithGuard(Task task, string label, string what)
    {
        try
        {
            await task.WaitAsync(Guard);
        }
        catch (TimeoutException)
        {
            throw new ModelMismatchException($"{label}: {what} did not complete within {Guard.TotalSeconds} s (stuck).");
        }
    }

    /// <summary>Returns what still differs from the model's prediction for the observable progress, or null.</summary>
    private string? Divergence()
    {
        BatcherCounters c = _batcher.Counters;
        int handled;
        string seen;
        lock (_gate)
        {
            handled = _handlerBatches.Count;
            seen = string.Join(" ", _handlerBatches.Values.Select(b => $"[{string.Join(',', b)}]"));
        }

        if (handled != _model.Batches.Count)
        {
            string expected = string.Join(" ", _model.Batches.Select(b => $"[{string.Join(',', b.Jobs.Select(j => j.Id))}]"));
            return $"handler saw {handled} batches {seen}, model {_model.Batches.Count} {expected}; model state {_model.Describe()}; real {_batcher.Counters}";
        }

        if (c.Succeeded != _model.Succeeded || c.Failed != _model.Failed || c.Canceled != _model.Canceled)
        {
            return $"counters {c}, model succeeded={_model.Succeeded} failed={_model.Failed} canceled={_model.Canceled}";
        }

        if (_batcher.InFlightBatches != _model.HeldCount)
        {
            return $"in-flight batches {_batcher.InFlightBatches}, model {_model.HeldCount}";
        }

        foreach (ModelJob job in _model.Jobs.Where(j => j.Awaited && j.Caller.IsSet))
        {
            if (!_callers[job.Id].IsCompleted)
            {
                return $"caller of job {job.Id} not completed, model {job.Caller}";
            }
        }

        foreach (ModelFlush flush in _model.Flushes.Where(_model.FlushComplete))
        {
            if (!_flushes[flush.Index].IsCompleted)
            {
                return $"flush {flush.Index} not completed";
            }
        }

        if (_model.Stopped && _stops.Any(s => !s.IsCompleted))
        {
            return "a stop has not completed";
        }

        return null;
    }

    /// <summary>Compares everything observable at a quiescent point; also checks the contract's invariants.</summary>
    private void Compare(string label)
    {
        List<int[]> batches;
        lock (_gate)
        {
            batches = [.. _handlerBatches.Values];
            Check(_handlerBatches.Keys.SequenceEqual(Enumerable.Range(1, _handlerBatches.Count).Select(i => (long)i)), $"{label}: batch ids are not 1..n: {string.Join(',', _handlerBatches.Keys)}");
        }

        // Invariants, on what the real batcher did.
        int last = -1;
        foreach (int[] batch in batches)
        {
            Check(batch.Length >= 1 && batch.Length <= _scenario.MaxBatchSize, $"{label}: a batch of {batch.Length} jobs (MaxBatchSize {_scenario.MaxBatchSize})");
            long weight = batch.Sum(_scenario.WeightOf);
            Check(!_scenario.Weighted || weight <= _scenario.MaxWeight, $"{label}: a batch weighs {weight} (MaxBatchWeight {_scenario.MaxWeight})");
            foreach (int job in batch)
            {
                Check(job > last, $"{label}: job {job} dispatched after job {last}: not FIFO, or dispatched twice");
                last = job;
            }
        }

        CheckDelayInvariant(label, batches);

        // The model.
        for (int i = 0; i < Math.Max(batches.Count, _model.Batches.Count); i++)
        {
            string real = i < batches.Count ? string.Join(',', batches[i]) : "-";
            string model = i < _model.Batches.Count ? string.Join(',', _model.Batches[i].Jobs.Select(j => j.Id)) : "-";
            Check(real == model, $"{label}: batch {i + 1} is [{real}], model [{model}]");
        }

        BatcherCounters c = _batcher.Counters;
        var expected = new BatcherCounters(
            _model.Accepted, _model.Succeeded, _model.Failed, _model.Canceled, 0, _model.Rejected, 0,
            _model.Pending, _model.InFlightJobs, _model.Batches.Count, 0);
        Check(c == expected, $"{label}: counters {c}, model {expected}");
        Check(c.Accepted == c.Completed + c.Pending + c.InFlight, $"{label}: counters do not add up: {c}");

        foreach (ModelJob job in _model.Jobs.Where(j => j.Awaited))
        {
            Outcome real = CallerOutcome(_callers[job.Id]);
            Check(real == job.Caller, $"{label}: caller of job {job.Id} saw {real}, model {job.Caller}");
        }

        foreach (ModelFlush flush in _model.Flushes)
        {
            bool done = _flushes[flush.Index].IsCompleted;
            Check(done == _model.FlushComplete(flush), $"{label}: flush {flush.Index} completed={done}, model {_model.FlushComplete(flush)}");
        }

        foreach (Task stop in _stops)
        {
            Check(stop.IsCompleted == _model.Stopped, $"{label}: stop completed={stop.IsCompleted}, model {_model.Stopped}");
            Check(!stop.IsFaulted, $"{label}: stop faulted: {stop.Exception}");
        }
    }

    /// <summary>No accepted job waits past MaxBatchDelay while a handler slot is free.</summary>
    private void CheckDelayInvariant(string label, List<int[]> batches)
    {
        if (_scenario.DelayMs <= 0 || _batcher.InFlightBatches >= _scenario.MaxConcurrent || _model.Stopping)
        {
            return;
        }

        var dispatched = batches.SelectMany(b => b).ToHashSet();
        long now = (long)(_time.GetUtcNow() - _start).TotalMilliseconds;
        foreach (ModelJob job in _model.Jobs)
        {
            bool canceledByCaller = _callerCancels.TryGetValue(job.Id, out CancellationTokenSource? cts) && cts.IsCancellationRequested;
            if (!dispatched.Contains(job.Id) && !canceledByCaller)
            {
                Check(now - job.Time < _scenario.DelayMs, $"{label}: job {job.Id} has waited {now - job.Time} ms (MaxBatchDelay {_scenario.DelayMs} ms) with a slot free");
            }
        }
    }

    private static Outcome CallerOutcome(Task<int> task) => task.Status switch
    {
        TaskStatus.RanToCompletion => Outcome.Succeeded(task.Result),
        TaskStatus.Canceled => Outcome.Canceled,
        TaskStatus.Faulted when task.Exception!.InnerException is OperationCanceledException => Outcome.Canceled,
        TaskStatus.Faulted => Outcome.Failed(task.Exception!.InnerException!.GetType()),
        _ => Outcome.None,
    };

    /// <summary>After the drain: every accepted job has exactly one outcome, and it is the model's.</summary>
    private void CheckFinal()
    {
        Compare("final");
        Check(_batcher.State == BatcherState.Stopped, $"final: state {_batcher.State}");
        lock (_gate)
        {
            foreach (ModelJob job in _model.Jobs)
            {
                var completions = _completed.Where(x => x.Job == job.Id).ToList();
                int letters = _deadLetters.Count(d => d.Job == job.Id);
                Check(completions.Count <= 1, $"final: job {job.Id} completed {completions.Count} times");
                if (job.QueuedCancel)
                {
                    Check(completions.Count == 0 && letters == 0, $"final: job {job.Id} was cancelled while queued but has {completions.Count} completions, {letters} dead letters");
                    continue;
                }

                if (completions.Count == 0)
                {
                    Check(letters == 1 && _deadLetters.Single(d => d.Job == job.Id).Reason == DeadLetterReason.Stopped, $"final: job {job.Id} has no outcome (lost) or {letters} dead letters");
                    Check(job.Batcher == Outcome.Failed(typeof(BatcherStoppedException)), $"final: job {job.Id} failed on stop, model {job.Batcher}");
                    continue;
                }

                (int _, JobStatus status, Exception? exception, int? result) = completions[0];
                Outcome real = status == JobStatus.Succeeded ? Outcome.Succeeded(result!.Value) : Outcome.Failed(exception!.GetType());
                Check(real == job.Batcher, $"final: job {job.Id} completed as {real}, model {job.Batcher}");
                Check(letters == (status == JobStatus.Succeeded ? 0 : 1), $"final: job {job.Id} ({status}) has {letters} dead letters");
            }
        }

        Check(!_batcher.TryAdd(-1), "final: an add after stop was accepted");
    }
}
