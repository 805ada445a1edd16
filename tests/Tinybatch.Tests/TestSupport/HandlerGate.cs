namespace Tinybatch.Tests.TestSupport;

/// <summary>
/// A gate handlers wait on: it counts how many handler calls entered, how many run now and the most that ever ran
/// at once, and lets a test wait until a given number have entered.
/// </summary>
internal sealed class HandlerGate
{
    private readonly object _lock = new();
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _entered;
    private int _running;
    private int _maxRunning;

    public int Entered
    {
        get
        {
            lock (_lock)
            {
                return _entered;
            }
        }
    }

    public int Running
    {
        get
        {
            lock (_lock)
            {
                return _running;
            }
        }
    }

    public int MaxRunning
    {
        get
        {
            lock (_lock)
            {
                return _maxRunning;
            }
        }
    }

    /// <summary>Enters the gate and waits until it opens, whatever the handler's token says.</summary>
    public Task PassAsync() => PassHonoringAsync(CancellationToken.None);

    /// <summary>Like <see cref="PassAsync()"/>, but gives up when <paramref name="cancellationToken"/> fires.</summary>
    public async Task PassHonoringAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _entered++;
            _running++;
            _maxRunning = Math.Max(_maxRunning, _running);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Count <= _entered)
                {
                    _waiters[i].Signal.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }

        try
        {
            await _open.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            lock (_lock)
            {
                _running--;
            }
        }
    }

    /// <summary>Completes once <paramref name="count"/> handler calls have entered the gate.</summary>
    public Task WhenEnteredAsync(int count)
    {
        lock (_lock)
        {
            if (_entered >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
            return signal.Task.Guarded();
        }
    }

    public void Open() => _open.TrySetResult();
}
