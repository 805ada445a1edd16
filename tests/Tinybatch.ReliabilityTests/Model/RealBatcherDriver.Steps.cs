namespace Tinybatch.ReliabilityTests.Model;

/// <summary>Applying operations to the real batcher and the model side by side.</summary>
public sealed partial class RealBatcherDriver
{
    private async Task ApplyAsync(Op op, int step)
    {
        // A waiting add whose job would race a cut this step (the real order is open) is cancelled first. An add made
        // without a cancelable token cannot be called off: the step is left out on both sides instead.
        if (_model.Waiting is { } waiter && WouldBeAmbiguous(op))
        {
            if (!waiter.Cancelable)
            {
                return;
            }

            await CancelWaiterAsync(waiter, $"step {step}: cancel the waiter before {op}");
        }

        _model.BeginOperation();
        switch (op.Kind)
        {
            case OpKind.Add:
                Add(AddKind.TryAdd, cancelable: false);
                break;
            case OpKind.AddAsync:
                Add(AddKind.AddAsync, cancelable: true);
                break;
            case OpKind.AddAndWait:
                Add(AddKind.AddAndWait, cancelable: false);
                break;
            case OpKind.AddAndWaitCancelable:
                Add(AddKind.AddAndWait, cancelable: true);
                break;
            case OpKind.CancelCaller:
                CancelCaller(op.Arg);
                break;
            case OpKind.CancelWave:
                await CancelWaveAsync();
                break;
            case OpKind.Flush:
                _model.Flush();
                _flushes.Add(_batcher.FlushAsync());
                break;
            case OpKind.Advance:
                await AdvanceAsync(op.Arg, $"step {step}");
                break;
            case OpKind.Release:
                Release(op.Arg);
                break;
            case OpKind.Stop:
                _model.BeginStop();
                _stops.Add(_batcher.StopAsync());
                break;
            case OpKind.StopWithDeadline:
                _model.BeginStop();
                _stops.Add(_batcher.StopAsync(_deadline.Token));
                await QuiesceAsync("stop before its deadline");
                Compare("stop before its deadline");
                _model.Abandon();
                await _deadline.CancelAsync();
                break;
        }

        Check(!_model.Ambiguous, $"step {step} {op}: the model met an open order the dry run missed");
        _model.EndOperation();
    }

    /// <summary>Tries <paramref name="op"/> on a copy of the model: does it wake the waiter into a race with a cut?</summary>
    private bool WouldBeAmbiguous(Op op)
    {
        BatcherModel copy = _model.Clone();
        copy.BeginOperation();
        switch (op.Kind)
        {
            case OpKind.Flush:
                copy.Flush();
                break;
            case OpKind.Advance:
                AdvanceModel(copy, op.Arg);
                break;
            case OpKind.Release when ReleaseCandidate(copy, op.Arg) is { } batch:
                copy.Release(batch);
                break;
            case OpKind.CancelCaller when CancelCandidate(copy, op.Arg) is ModelJob job:
                copy.CancelCaller(job);
                break;
            case OpKind.StopWithDeadline:
                copy.BeginStop();
                break;
        }

        return copy.Ambiguous;
    }

    private void Add(AddKind kind, bool cancelable)
    {
        if (_model.Waiting is not null && _model.IsFull && !_model.Stopping && _scenario.Policy == OverflowPolicy.Wait && kind != AddKind.TryAdd)
        {
            // One waiting add at a time: two would race each other for the place that frees.
            return;
        }

        int id = _model.NextId;
        _ = _model.Add(kind, cancelable, out AddResult result);
        _expectedAdds[id] = (kind, result);
        var cts = new CancellationTokenSource();
        _callerCancels[id] = cts;
        CancellationToken token = cancelable ? cts.Token : CancellationToken.None;
        Task task;
        bool? tryAdd = null;
        try
        {
            switch (kind)
            {
                case AddKind.TryAdd:
                    tryAdd = _batcher.TryAdd(id);
                    task = Task.CompletedTask;
                    break;
                case AddKind.AddAsync:
                    task = _batcher.AddAsync(id, token).AsTask();
                    _adds[id] = task;
                    break;
                default:
                    Task<int> caller = _batcher.AddAndWaitAsync(id, token).AsTask();
                    _callers[id] = caller;
                    task = caller;
                    break;
            }
        }
        catch (Exception ex)
        {
            // A synchronous refusal: the same as a task faulted with it (kept, so the driver observes it at the end).
            if (kind == AddKind.AddAndWait)
            {
                Task<int> refused = Task.FromException<int>(ex);
                _callers[id] = refused;
                task = refused;
            }
            else
            {
                task = Task.FromException(ex);
                _adds[id] = task;
            }
        }

        string label = $"{kind} of job {id}";
        if (kind == AddKind.TryAdd)
        {
            Check(tryAdd == (result == AddResult.Accepted), $"{label}: TryAdd returned {tryAdd}, model expects {result}");
            return;
        }

        switch (result)
        {
            case AddResult.Accepted when kind == AddKind.AddAsync:
                Check(task.IsCompletedSuccessfully, $"{label}: accepted with room, yet the add is {task.Status} {task.Exception?.InnerException?.GetType().Name}");
                break;
            case AddResult.Waits:
                Check(!task.IsCompleted, $"{label}: the buffer is full (Wait), yet the add ended {task.Status} {task.Exception?.InnerException?.GetType().Name}");
                break;
            case AddResult.ThrowsStopped:
            case AddResult.ThrowsFull:
                // Checked once quiescent (the refusal may complete the task asynchronously).
                break;
        }
    }

    /// <summary>
    /// The outcome the task of an add must end with (what its caller sees): for AddAsync the add itself, for AddAndWaitAsync
    /// the job's outcome once accepted. <see cref="Outcome.None"/> while it must still be waiting.
    /// </summary>
    private Outcome ExpectedCallerOutcome(int id)
    {
        (AddKind kind, AddResult result) = _expectedAdds[id];
        ModelJob? job = _model.Jobs.FirstOrDefault(j => j.Id == id);
        return result switch
        {
            AddResult.Accepted or AddResult.DroppedSilently when kind == AddKind.AddAsync => Outcome.Accepted,
            AddResult.Accepted => job!.Caller,
            AddResult.Waits => _model.Waiters.First(w => w.Id == id) switch
            {
                { Add: var add } when add == Outcome.Accepted && kind == AddKind.AddAndWait => job!.Caller,
                { Add: var add } => add,
            },
            AddResult.ThrowsStopped => Outcome.Failed(typeof(BatcherStoppedException)),
            AddResult.ThrowsFull => Outcome.Failed(typeof(BatcherFullException)),
            AddResult.ThrowsDropped => Outcome.Failed(typeof(JobDroppedException)),
            _ => Outcome.None,
        };
    }

    private void CancelCaller(int arg)
    {
        switch (CancelCandidate(_model, arg))
        {
            case ModelJob job:
                _model.CancelCaller(job);
                _callerCancels[job.Id].Cancel();
                break;
            case ModelWaiter waiter:
                _model.CancelWaiter(waiter);
                _callerCancels[waiter.Id].Cancel();
                break;
        }
    }

    private async Task CancelWaiterAsync(ModelWaiter waiter, string label)
    {
        _model.CancelWaiter(waiter);
        await _callerCancels[waiter.Id].CancelAsync();
        await QuiesceAsync(label);
        Compare(label);
    }

    /// <summary>
    /// Awaited, cancelable callers without an outcome, and the waiting add if it was given a cancelable token (that token
    /// cancels the wait; an AddAndWait op passes none, and cancelling its source would change nothing). Not the oldest
    /// queued job while a positive delay runs: whether the next batch's delay then runs from its add or from the next
    /// job's is left open by the contract (today's engine keeps the cancelled job's time), so the model does not go there.
    /// </summary>
    private static object? CancelCandidate(BatcherModel model, int arg)
    {
        var candidates = model.Jobs
            .Where(j => j.Awaited && j.Cancelable && !j.Caller.IsSet && !(model.Scenario.DelayMs > 0 && j == model.QueueHead))
            .Cast<object>()
            .ToList();
        if (model.Waiting is { Cancelable: true } waiter)
        {
            candidates.Add(waiter);
        }

        int pick = Pick(arg, candidates.Count);
        return pick < 0 ? null : candidates[pick];
    }

    private static ModelBatch? ReleaseCandidate(BatcherModel model, int arg)
    {
        var held = model.Batches.Where(b => b.Held).ToList();
        int pick = Pick(arg, held.Count);
        return pick < 0 ? null : held[pick];
    }

    private void Release(int arg)
    {
        if (ReleaseCandidate(_model, arg) is not { } batch)
        {
            return;
        }

        _model.Release(batch);
        _holds.GetOrAdd(batch.Id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>
    /// A wave of callers that each add and cancel while queued, one after the other, more than the compaction threshold.
    /// Only while every handler slot is held (no job of the wave can be dispatched) and a place is free.
    /// </summary>
    private async Task CancelWaveAsync()
    {
        if (_model.Stopping || _model.IsFull || _model.SlotsHeld < _scenario.MaxConcurrent || _model.Waiting is not null)
        {
            return;
        }

        int count = _scenario.CompactionThreshold + 64;
        _model.CancelWave(count);
        for (int i = 0; i < count; i++)
        {
            using var cts = new CancellationTokenSource();
            Task<int> caller = _batcher.AddAndWaitAsync(WaveIds + (_waves.Count % 1_000_000), cts.Token).AsTask();
            _waves.Add(caller);
            await cts.CancelAsync();
        }
    }

    /// <summary>
    /// Moves the clock in steps that each end at the next timer's instant (a retry re-entry, a handler timeout, the batch
    /// delay), waiting for quiescence after each, so that every timer fires with the clock at its own instant. An advance
    /// that would fire an arrival and another timer at one instant (their order is open) stops short.
    /// </summary>
    private async Task AdvanceAsync(int ms, string label)
    {
        long target = _model.Now + (ms * TimeSpan.TicksPerMillisecond);
        while (!_model.HasTieBefore(target) && _model.NextEvent() is { } next && next <= target && next > _model.Now)
        {
            long step = next - _model.Now;
            _model.AdvanceTo(next);
            _time.Advance(TimeSpan.FromTicks(step));
            await QuiesceAsync($"{label}: advance to the timer at {next / (double)TimeSpan.TicksPerMillisecond}ms");
            Compare($"{label}: advance to the timer at {next / (double)TimeSpan.TicksPerMillisecond}ms");
        }

        if (!_model.HasTieBefore(target) && target > _model.Now)
        {
            long rest = target - _model.Now;
            _model.AdvanceTo(target);
            _time.Advance(TimeSpan.FromTicks(rest));
        }
    }

    /// <summary>The same steps, on a model alone (for a dry run).</summary>
    private static void AdvanceModel(BatcherModel model, int ms)
    {
        long target = model.Now + (ms * TimeSpan.TicksPerMillisecond);
        while (!model.HasTieBefore(target) && model.NextEvent() is { } next && next <= target && next > model.Now)
        {
            model.AdvanceTo(next);
        }

        if (!model.HasTieBefore(target) && target > model.Now)
        {
            model.AdvanceTo(target);
        }
    }

    /// <summary>Stops without a deadline, then releases held batches and moves the clock through pending retries until drained.</summary>
    private async Task DrainAsync()
    {
        // A waiter that cannot be cancelled is refused by the stop below (BatcherStoppedException), as the model says.
        if (_model.Waiting is { Cancelable: true } waiter)
        {
            await CancelWaiterAsync(waiter, "drain: cancel the waiter");
        }

        _model.BeginOperation();
        if (!_model.Stopping)
        {
            _model.BeginStop();
            _stops.Add(_batcher.StopAsync());
            await QuiesceAsync("drain: stop");
            Compare("drain: stop");
        }

        for (int round = 0; !_model.Stopped && round < 10_000; round++)
        {
            if (_model.Batches.FirstOrDefault(b => b.HoldsSlot) is { } held)
            {
                _model.Release(held);
                _holds.GetOrAdd(held.Id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                await QuiesceAsync($"drain: release batch {held.Id}");
                Compare($"drain: release batch {held.Id}");
            }
            else if (_model.NextEvent() is { } next && next > _model.Now)
            {
                // The drain cannot stop short of retries due at one instant (as AdvanceAsync does): any order of their
                // re-entries is allowed, and the model that took the batcher's order goes on.
                long step = next - _model.Now;
                List<BatcherModel> ways = _model.AdvanceToEachOrder(next);
                _time.Advance(TimeSpan.FromTicks(step));
                await QuiesceAsync("drain: advance to the next timer", ways);
                Compare("drain: advance to the next timer");
            }
            else
            {
                break;
            }
        }

        Check(_model.Stopped, $"drain: the model never stopped: {_model.Describe()}");
        await WithGuard(_batcher.Completion, "drain", $"Completion (model: {_model.Describe()}, real: {_batcher.Counters})");
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new ModelMismatchException(message);
        }
    }
}
