using Tinybatch.Durable.Internal;

namespace Tinybatch.Durable;

/// <summary>Start (replaying recovered jobs first), flush, stop and disposal.</summary>
public sealed partial class DurableBatcher<TJob>
{
    private readonly TaskCompletionSource? _replayDone;
    private readonly Task _replay = Task.CompletedTask;
    private int _started;

    /// <summary>
    /// Starts the batcher: the jobs recovered from the journal are added first, in their original order and with their
    /// attempt counts; adds made meanwhile wait for them.
    /// </summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        _journal.Start();
        _batcher.Start();
        if (_journal.Recovered.Count > 0)
        {
            using (ExecutionContext.SuppressFlow())
            {
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await ReplayAsync().ConfigureAwait(false);
                    }
                    finally
                    {
                        _replayDone!.TrySetResult();
                    }
                });
            }
        }
    }

    private async Task ReplayAsync()
    {
        foreach (var recovered in _journal.Recovered)
        {
            TJob job;
            try
            {
                job = _serializer.Deserialize(recovered.Payload);
            }
            catch (Exception ex)
            {
                _journal.ReportUndeserializable(recovered.SequenceId, ex);
                continue;
            }

            var item = new Journalled<TJob>(recovered.SequenceId, job, recovered.Attempts,
                RecordFormat.RecordHeaderSize + RecordFormat.JobBodyPrefix + recovered.Payload.Length, Recovered: true);
            while (true)
            {
                try
                {
                    await _batcher.AddAsync(item).ConfigureAwait(false);
                    break;
                }
                catch (BatcherFullException)
                {
                    // A smaller capacity than the run that journalled it: make room by letting the buffer drain.
                    await _batcher.FlushAsync().ConfigureAwait(false);
                }
                catch (BatcherStoppedException)
                {
                    // Stopped before the replay ended: the rest stays in the journal for the next start.
                    return;
                }
            }
        }
    }

    /// <summary>Waits until every job accepted so far has its outcome and the journal has committed what it holds.</summary>
    /// <param name="cancellationToken">Stops the waiting.</param>
    /// <returns>A task that completes then.</returns>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _replay.WaitAsync(cancellationToken).ConfigureAwait(false);
        await _batcher.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _journal.WaitForCommitAsync(_journal.AppendAttempts([])).AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops intake, lets the batcher drain (see <see cref="Batcher{TJob}.StopAsync"/>), then commits and
    /// closes the journal. Jobs abandoned when <paramref name="cancellationToken"/> fires stay in the journal.
    /// </summary>
    /// <param name="cancellationToken">The stop deadline.</param>
    /// <returns>A task that completes when the batcher and the journal are closed.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _started, 1, 0) == 0)
        {
            // Never started: nothing is replayed (recovered jobs stay journalled), and adds waiting for the replay go on
            // to meet the stopped batcher.
            _replayDone?.TrySetResult();
        }

        // Recovered jobs were accepted in an earlier run: a graceful stop hands them to the batcher before it drains.
        try
        {
            await _replay.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Past the deadline: what is not replayed stays in the journal for the next start.
        }

        await _batcher.StopAsync(cancellationToken).ConfigureAwait(false);
        await _replay.ConfigureAwait(false);
        await _journal.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => new(StopAsync());

    /// <summary>
    /// Stops at once: jobs still without an outcome are failed in memory (with <see cref="BatcherStoppedException"/>)
    /// but stay in the journal, and are replayed on the next start.
    /// </summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _started, 1);
        _batcher.Dispose();
        _replayDone?.TrySetResult();

        // The journal closes once its loop has written what is appended; nothing here waits on a handler.
        _ = _journal.DisposeAsync().AsTask();
    }
}
