namespace Tinybatch.ReliabilityTests.Model;

/// <summary>Applying operations to the real batcher and the model side by side.</summary>
public sealed partial class RealBatcherDriver
{
    private async Task ApplyAsync(Op op)
    {
        switch (op.Kind)
        {
            case OpKind.Add:
                Add(awaited: false, cancelable: false);
                break;
            case OpKind.AddAndWait:
                Add(awaited: true, cancelable: false);
                break;
            case OpKind.AddAndWaitCancelable:
                Add(awaited: true, cancelable: true);
                break;
            case OpKind.CancelCaller:
                CancelCaller(op.Arg);
                break;
            case OpKind.Flush:
                _model.Flush();
                _flushes.Add(_batcher.FlushAsync());
                break;
            case OpKind.Advance:
                _model.Advance(op.Arg);
                _time.Advance(TimeSpan.FromMilliseconds(op.Arg));
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
    }

    private void Add(bool awaited, bool cancelable)
    {
        if (awaited && _model.IsFull && !_model.Stopping)
        {
            // With OverflowPolicy.Wait this add would block the single-threaded driver: skip it.
            return;
        }

        int id = _model.Jobs.Count;
        ModelJob? expected = _model.Add(awaited, cancelable, out bool refusedByStop);
        bool accepted;
        bool stoppedThrown = false;
        try
        {
            if (!awaited)
            {
                accepted = _batcher.TryAdd(id);
            }
            else
            {
                var cts = new CancellationTokenSource();
                Task<int> task = _batcher.AddAndWaitAsync(id, cancelable ? cts.Token : CancellationToken.None).AsTask();
                accepted = true;
                _callers[id] = task;
                _callerCancels[id] = cts;
            }
        }
        catch (BatcherStoppedException)
        {
            accepted = false;
            stoppedThrown = true;
        }

        Check(accepted == (expected is not null), $"add of job {id}: accepted={accepted}, model expects {expected is not null}");
        // After a stop, TryAdd returns false (as ChannelWriter.TryWrite does); only the awaited add throws.
        bool expectThrow = expected is null && refusedByStop && awaited;
        Check(stoppedThrown == expectThrow, $"add of job {id}: BatcherStoppedException thrown={stoppedThrown}, model expects {expectThrow}");
    }

    private void CancelCaller(int arg)
    {
        var candidates = _model.Jobs.Where(j => j.Cancelable && !j.Caller.IsSet).ToList();
        int pick = Pick(arg, candidates.Count);
        if (pick < 0)
        {
            return;
        }

        ModelJob job = candidates[pick];
        _model.CancelCaller(job);
        _callerCancels[job.Id].Cancel();
    }

    private void Release(int arg)
    {
        var held = _model.Batches.Where(b => b.Held).ToList();
        int pick = Pick(arg, held.Count);
        if (pick < 0)
        {
            return;
        }

        ModelBatch batch = held[pick];
        _model.Release(batch);
        _holds.GetOrAdd(batch.Id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Stops without a deadline, releases every held batch (the drain may dispatch more), and waits for completion.</summary>
    private async Task DrainAsync()
    {
        if (!_model.Stopping)
        {
            _model.BeginStop();
            _stops.Add(_batcher.StopAsync());
            await QuiesceAsync("drain: stop");
            Compare("drain: stop");
        }

        while (_model.Batches.FirstOrDefault(b => b.Held) is { } held)
        {
            _model.Release(held);
            _holds.GetOrAdd(held.Id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            await QuiesceAsync($"drain: release batch {held.Id}");
            Compare($"drain: release batch {held.Id}");
        }

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
