using System.Diagnostics;

namespace Tinybatch.ReliabilityTests.Model;

/// <summary>Waiting for quiescence and comparing the real batcher with the model and the invariants.</summary>
public sealed partial class RealBatcherDriver
{
    /// <summary>
    /// Waits until the batcher has done what the model predicts for this step and its loop sleeps. With no slot held, the
    /// test hook WhenIdleAsync is the barrier; with a batch held it cannot be (it waits for an empty pipeline), so the
    /// loop's sleep flags are read instead.
    /// </summary>
    /// <param name="label">What the step was, for failure messages.</param>
    /// <param name="ways">The models of every outcome the contract allows for the step, the current one first: the first
    /// one reached whose batches are the batcher's (or else the first one reached) becomes the model.</param>
    private async Task QuiesceAsync(string label, IReadOnlyList<BatcherModel>? ways = null)
    {
        var clock = Stopwatch.StartNew();
        int spins = 0;
        while (Reached(ways) is { } divergence)
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
        else if (_model.SlotsHeld == 0)
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

    /// <summary>
    /// Returns what still differs from every allowed model, or null once one is reached, which then becomes the model:
    /// among those reached, the one whose batches are the batcher's.
    /// </summary>
    private string? Reached(IReadOnlyList<BatcherModel>? ways)
    {
        if (ways is null || ways.Count == 1)
        {
            return Divergence();
        }

        string? first = null;
        BatcherModel? reached = null;
        foreach (BatcherModel way in ways)
        {
            _model = way;
            if (Divergence() is { } divergence)
            {
                first ??= divergence;
            }
            else if (SameBatches(way))
            {
                return null;
            }
            else
            {
                reached ??= way;
            }
        }

        _model = reached ?? ways[0];
        return reached is null ? first : null;
    }

    private bool SameBatches(BatcherModel model)
    {
        lock (_gate)
        {
            return _handlerBatches.Count == model.Batches.Count
                && _handlerBatches.Values.Zip(model.Batches).All(p => p.First.SequenceEqual(p.Second.Jobs.Select(j => j.Id)));
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
            return $"handler saw {handled} batches {seen}, model {_model.Batches.Count} {expected}; model state {_model.Describe()}; real {c}";
        }

        // Accepted too: an add woken by a freed place counts its job on its own thread, after the place was freed.
        if (c.Accepted != _model.Accepted || c.Succeeded != _model.Succeeded || c.Failed != _model.Failed || c.Canceled != _model.Canceled
            || c.Dropped != _model.Dropped || c.Retried != _model.Retried)
        {
            return $"counters {c}, model accepted={_model.Accepted} succeeded={_model.Succeeded} failed={_model.Failed} canceled={_model.Canceled} "
                + $"dropped={_model.Dropped} retried={_model.Retried}; model state {_model.Describe()}";
        }

        if (_batcher.InFlightBatches != _model.SlotsHeld)
        {
            return $"in-flight batches {_batcher.InFlightBatches}, model {_model.SlotsHeld}";
        }

        foreach ((int id, Task task) in AddTasks())
        {
            if (ExpectedCallerOutcome(id).IsSet && !task.IsCompleted)
            {
                return $"the add or caller of job {id} has not completed, model {ExpectedCallerOutcome(id)}; expected add {_expectedAdds[id]}, model state {_model.Describe()}, real pending={_batcher.PendingCount} waiters={_batcher.SpaceWaiterCount} counters={_batcher.Counters}";
            }
        }

        foreach (ModelFlush flush in _model.Flushes.Where(_model.FlushComplete))
        {
            if (!_flushes[flush.Index].IsCompleted)
            {
                return $"flush {flush.Index} not completed";
            }
        }

        if (_waves.Any(w => !w.IsCompleted))
        {
            return "a cancelled caller of a wave has not completed";
        }

        if (_model.Stopped && _stops.Any(s => !s.IsCompleted))
        {
            return "a stop has not completed";
        }

        return null;
    }

    private IEnumerable<(int Id, Task Task)> AddTasks() =>
        _callers.Select(c => (c.Key, (Task)c.Value)).Concat(_adds.Select(a => (a.Key, a.Value)));

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
        foreach (int[] batch in batches)
        {
            Check(batch.Length >= 1 && batch.Length <= _scenario.MaxBatchSize, $"{label}: a batch of {batch.Length} jobs (MaxBatchSize {_scenario.MaxBatchSize})");
            long weight = batch.Sum(_scenario.WeightOf);
            Check(!_scenario.Weighted || weight <= _scenario.MaxWeight, $"{label}: a batch weighs {weight} (MaxBatchWeight {_scenario.MaxWeight})");
            Check(batch.Distinct().Count() == batch.Length, $"{label}: a job twice in one batch [{string.Join(',', batch)}]");
        }

        // The model.
        for (int i = 0; i < Math.Max(batches.Count, _model.Batches.Count); i++)
        {
            string real = i < batches.Count ? string.Join(',', batches[i]) : "-";
            string model = i < _model.Batches.Count ? string.Join(',', _model.Batches[i].Jobs.Select(j => j.Id)) : "-";
            Check(real == model, $"{label}: batch {i + 1} is [{real}], model [{model}]; model state {_model.Describe()}");
        }

        BatcherCounters c = _batcher.Counters;
        var expected = new BatcherCounters(
            _model.Accepted, _model.Succeeded, _model.Failed, _model.Canceled, _model.Dropped, _model.Rejected, _model.Retried,
            c.Pending, c.InFlight, _model.Batches.Count, 0);
        Check(c == expected, $"{label}: counters {c}, model {expected}");
        Check(c.Pending + c.InFlight == _model.Live, $"{label}: pending {c.Pending} + in flight {c.InFlight}, model {_model.Live} jobs without a final outcome");
        Check(c.Accepted == c.Completed + c.Pending + c.InFlight, $"{label}: counters do not add up: {c}");

        foreach ((int id, Task task) in AddTasks())
        {
            Outcome real = CallerOutcome(task);
            Outcome model = ExpectedCallerOutcome(id);
            Check(real == model, $"{label}: the caller of job {id} ({_expectedAdds[id].Kind}, {_expectedAdds[id].Result}) saw {real}, model {model}");
        }

        foreach (ModelFlush flush in _model.Flushes)
        {
            bool done = _flushes[flush.Index].IsCompleted;
            Check(done == _model.FlushComplete(flush), $"{label}: flush {flush.Index} completed={done}, model {_model.FlushComplete(flush)} "
                + $"(waits for [{string.Join(',', flush.Before.Where(j => !j.IsFinal).Select(j => j.Id))}])");
        }

        foreach (Task wave in _waves)
        {
            Check(wave.IsCanceled, $"{label}: a caller of a cancellation wave ended {wave.Status}: {wave.Exception?.InnerException?.Message}");
        }

        foreach (Task stop in _stops)
        {
            Check(stop.IsCompleted == _model.Stopped, $"{label}: stop completed={stop.IsCompleted}, model {_model.Stopped}");
            Check(!stop.IsFaulted, $"{label}: stop faulted: {stop.Exception}");
        }
    }

    private static Outcome CallerOutcome(Task task) => task.Status switch
    {
        TaskStatus.RanToCompletion when task is Task<int> result => Outcome.Succeeded(result.Result),
        TaskStatus.RanToCompletion => Outcome.Accepted,
        TaskStatus.Canceled => Outcome.Canceled,
        TaskStatus.Faulted when task.Exception!.InnerException is OperationCanceledException => Outcome.Canceled,
        TaskStatus.Faulted => Outcome.Failed(task.Exception!.InnerException!.GetType()),
        _ => Outcome.None,
    };

    /// <summary>After the drain: every accepted job has exactly one outcome, and it is the model's; every letter is right.</summary>
    private void CheckFinal()
    {
        Compare("final");
        Check(_batcher.State == BatcherState.Stopped, $"final: state {_batcher.State}");
        lock (_gate)
        {
            foreach (ModelJob job in _model.Jobs)
            {
                var completions = _completed.Where(x => x.Job == job.Id).ToList();
                var letters = _deadLetters.Where(d => d.Job == job.Id).ToList();
                Check(completions.Count <= 1, $"final: job {job.Id} completed {completions.Count} times");
                if (completions.Count == 1)
                {
                    (int _, JobStatus status, Exception? exception, int? result) = completions[0];
                    Outcome real = status == JobStatus.Succeeded ? Outcome.Succeeded(result!.Value) : Outcome.Failed(exception!.GetType());
                    Check(real == job.Batcher, $"final: job {job.Id} completed as {real}, model {job.Batcher}");
                }
                else
                {
                    Check(job.QueuedCancel || job.Letter is DeadLetterReason.Dropped or DeadLetterReason.Stopped,
                        $"final: job {job.Id} has no completion, model {job.Batcher} ({job.Letter})");
                }

                string reasons = string.Join(',', letters.Select(l => l.Reason));
                Check(letters.Count == (job.Letter is null ? 0 : 1) && (job.Letter is null || letters[0].Reason == job.Letter),
                    $"final: job {job.Id} ({job.Batcher}) has dead letters [{reasons}], model [{job.Letter}]");
            }

            foreach ((int id, DeadLetterReason? letter) in _model.Refused)
            {
                string reasons = string.Join(',', _deadLetters.Where(d => d.Job == id).Select(l => l.Reason));
                Check(reasons == (letter?.ToString() ?? ""), $"final: refused job {id} has dead letters [{reasons}], model [{letter}]");
            }
        }

        Check(!_batcher.TryAdd(-1), "final: an add after stop was accepted");
    }
}
