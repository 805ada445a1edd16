namespace Tinybatch.Tests.TestSupport;

/// <summary>
/// An <see cref="IAsyncEnumerable{T}"/> the test drives item by item. A pushed item completes a pending
/// <c>MoveNextAsync</c> on the pushing thread (so the operator continues before <see cref="Push"/> returns), or waits to
/// be returned synchronously by the next one. It records what the operator asked of it.
/// </summary>
internal sealed class ManualAsyncSource<T> : IAsyncEnumerable<T>
{
    private readonly Queue<T> _ready = new();
    private readonly object _lock = new();
    private TaskCompletionSource<bool>? _pending;
    private Exception? _failure;
    private bool _ended;
    private T _current = default!;
    private CancellationToken _token;

    /// <summary>Gets or sets whether a pending move ends with <see cref="OperationCanceledException"/> when the token is cancelled.</summary>
    public bool HonorsCancellation { get; set; } = true;

    public int MoveCalls { get; private set; }

    public bool Disposed { get; private set; }

    public bool MovePending
    {
        get
        {
            lock (_lock)
            {
                return _pending is not null;
            }
        }
    }

    public bool CancellationRequested => _token.IsCancellationRequested;

    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        _token = cancellationToken;
        cancellationToken.Register(() =>
        {
            TaskCompletionSource<bool>? pending;
            lock (_lock)
            {
                if (!HonorsCancellation || _pending is null)
                {
                    return;
                }

                pending = _pending;
                _pending = null;
            }

            pending.SetException(new OperationCanceledException(cancellationToken));
        });
        return new Enumerator(this);
    }

    public void Push(params T[] items)
    {
        foreach (T item in items)
        {
            TaskCompletionSource<bool>? pending;
            lock (_lock)
            {
                pending = _pending;
                _pending = null;
                if (pending is null)
                {
                    _ready.Enqueue(item);
                    continue;
                }

                _current = item;
            }

            pending.SetResult(true);
        }
    }

    public void Complete() => End(null);

    public void Fail(Exception failure) => End(failure);

    private void End(Exception? failure)
    {
        TaskCompletionSource<bool>? pending;
        lock (_lock)
        {
            _ended = true;
            _failure = failure;
            pending = _pending;
            _pending = null;
        }

        if (failure is null)
        {
            pending?.SetResult(false);
        }
        else
        {
            pending?.SetException(failure);
        }
    }

    private ValueTask<bool> MoveNextAsync()
    {
        lock (_lock)
        {
            MoveCalls++;
            Assert.Null(_pending);
            if (_ready.TryDequeue(out T? item))
            {
                _current = item;
                return new ValueTask<bool>(true);
            }

            if (_ended)
            {
                return _failure is null ? new ValueTask<bool>(false) : ValueTask.FromException<bool>(_failure);
            }

            if (HonorsCancellation && _token.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<bool>(_token);
            }

            // Continuations run on the thread that pushes: the test stays in step with the operator.
            _pending = new TaskCompletionSource<bool>(TaskCreationOptions.None);
            return new ValueTask<bool>(_pending.Task);
        }
    }

    private sealed class Enumerator(ManualAsyncSource<T> owner) : IAsyncEnumerator<T>
    {
        public T Current => owner._current;

        public ValueTask<bool> MoveNextAsync() => owner.MoveNextAsync();

        public ValueTask DisposeAsync()
        {
            Assert.False(owner.MovePending, "The source was disposed under a pending MoveNextAsync.");
            owner.Disposed = true;
            return default;
        }
    }
}
