using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace Tinybatch.Internal;

/// <summary>
/// The pooled, versioned completion behind <see cref="Batcher{TJob, TResult}.AddAndWaitAsync"/>: one per awaited job,
/// reused once both owners (the caller and the batcher) have let go of it.
/// </summary>
/// <remarks>
/// Continuations run asynchronously, so a caller's code never runs on the batcher's threads. Without a captured
/// scheduling context they go to the thread pool's global queue, in completion order: the default of
/// <see cref="ManualResetValueTaskSourceCore{TResult}"/> pushes them onto the completing worker's local queue, which that
/// worker pops last-in first-out, so under load the callers of an early batch waited behind those of every later one.
/// The completion is set exactly once (<see cref="_completed"/>), whoever comes first: the batch, a drop, a stop, or the
/// caller's token.
/// </remarks>
internal sealed class JobCompletion<TJob, TResult> : IValueTaskSource<TResult>, ILinkedState, IDroppableState, IRequeueable
{
    private const int Queued = 0;
    private const int Dispatched = 1;
    private const int Canceled = 2;

    private static readonly Action<object?> s_onCanceled = static s => ((JobCompletion<TJob, TResult>)s!).OnCanceled();
    private static readonly Action<object?> s_queueContinuation = static s => ((JobCompletion<TJob, TResult>)s!).QueueContinuation();

    private readonly CompletionPool _pool;
    private ManualResetValueTaskSourceCore<TResult> _core;
    private Action<object?>? _continuation;
    private object? _continuationState;
    private bool _flowExecutionContext;
    private CancellationTokenRegistration _registration;
    private CancellationToken _token;
    private RetryTicket? _ticket;
    private int _state;
    private int _completed;
    private int _owners;

    private JobCompletion(CompletionPool pool) => _pool = pool;

    /// <summary>The batcher that owns the job; told when the caller cancels while the job is queued.</summary>
    public Batcher<TJob, TResult>? Owner { get; private set; }

    /// <summary>The boxed activity context current when the job was added, while tracing listens.</summary>
    public object? Link { get; set; }

    /// <summary>The job's weight, given back to the batcher's pending weight if the caller cancels.</summary>
    public long Weight { get; private set; }

    /// <summary>
    /// The job itself, held here rather than in the intake: a caller that cancels while its job is queued lets go of the
    /// job at once, even while the entry waits behind a stalled handler to be skipped.
    /// </summary>
    public TJob Job { get; private set; } = default!;

    /// <summary>Whether the caller cancelled while the job was queued: the job is then skipped.</summary>
    public bool IsCanceled => Volatile.Read(ref _state) == Canceled;

    /// <inheritdoc/>
    public bool IsDropped => IsCanceled;

    /// <inheritdoc/>
    public void Drop() => ReleaseByBatcher();

    public static JobCompletion<TJob, TResult> Rent(CompletionPool pool, Batcher<TJob, TResult> owner, TJob job, long weight)
    {
        JobCompletion<TJob, TResult> c = pool.TryRent() ?? new JobCompletion<TJob, TResult>(pool);
        c.Owner = owner;
        c.Job = job;
        c.Weight = weight;
        c._state = Queued;
        c._completed = 0;
        c._owners = 2;
        return c;
    }

    /// <summary>Registers the caller's token and returns the caller's view of the job.</summary>
    public ValueTask<TResult> Arm(CancellationToken cancellationToken)
    {
        var task = new ValueTask<TResult>(this, _core.Version);
        if (cancellationToken.CanBeCanceled)
        {
            _token = cancellationToken;
            _registration = cancellationToken.UnsafeRegister(s_onCanceled, this);
        }

        return task;
    }

    /// <summary>Claims the job for a batch (or a drop); false when its caller cancelled it first.</summary>
    public bool TryClaim() => Interlocked.CompareExchange(ref _state, Dispatched, Queued) != Canceled;

    /// <summary>Makes a claimed job cancellable again, when it goes back into the queue for a retry.</summary>
    public void Requeue(RetryTicket ticket)
    {
        _ticket = ticket;
        Interlocked.CompareExchange(ref _state, Queued, Dispatched);
    }

    public void TrySetResult(TResult result)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            _core.SetResult(result);
        }
    }

    public void TrySetException(Exception exception)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            _core.SetException(exception);
        }
    }

    /// <summary>The batcher lets go of the job: it has an outcome, or it was skipped after a cancellation.</summary>
    public void ReleaseByBatcher() => Release();

    public TResult GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // Dispose waits for a cancellation callback that is running, so the object cannot be reused under it.
            _registration.Dispose();
            Release();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        if ((flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0 && HasSchedulingContext())
        {
            // The core posts to the captured context or scheduler, which is asynchronous already.
            _core.OnCompleted(continuation, state, token, flags);
            return;
        }

        // The core runs the trampoline inline when the job completes (under the caller's execution context when it
        // flows); the trampoline only queues the caller's continuation.
        _continuation = continuation;
        _continuationState = state;
        _flowExecutionContext = (flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0;
        _core.OnCompleted(s_queueContinuation, this, token, flags & ~ValueTaskSourceOnCompletedFlags.UseSchedulingContext);
    }

    private static bool HasSchedulingContext() =>
        SynchronizationContext.Current is { } context && context.GetType() != typeof(SynchronizationContext)
        || TaskScheduler.Current != TaskScheduler.Default;

    private void QueueContinuation()
    {
        Action<object?> continuation = _continuation!;
        object? state = _continuationState;
        _continuation = null;
        _continuationState = null;

        // preferLocal: false puts the continuation on the global queue, first in first out. An awaiting async method
        // takes the unsafe path, which queues its state machine without allocating; a flowing caller's execution
        // context has just been restored by the core, and QueueUserWorkItem captures it again.
        if (_flowExecutionContext)
        {
            ThreadPool.QueueUserWorkItem(continuation, state, preferLocal: false);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(continuation, state, preferLocal: false);
        }
    }

    private void OnCanceled()
    {
        if (Interlocked.CompareExchange(ref _state, Canceled, Queued) == Queued)
        {
            Job = default!;

            // Back in the queue for a retry: the flushes waiting for it learn its outcome now (the poke below), not
            // when the loop reaches its entry.
            _ticket?.OnCanceled();
            Owner!.OnQueuedJobCanceled(Weight);
        }

        TrySetException(new OperationCanceledException(_token));
    }

    private void Release()
    {
        int owners = Interlocked.Decrement(ref _owners);
        Debug.Assert(owners >= 0, "A job completion was released more than twice.");
        if (owners == 0)
        {
            _core.Reset();
            _registration = default;
            _token = default;
            _ticket = null;
            Owner = null;
            Link = null;
            Job = default!;
            _pool.Return(this);
        }
    }

    /// <summary>A bounded pool of completions, one per batcher.</summary>
    internal sealed class CompletionPool(int maxSize)
    {
        /// <summary>
        /// One completion per thread, taken and given back with no shared write: an awaiting caller usually releases its
        /// completion last, on the thread that then makes its next request, which takes it back from here. Shared by the
        /// batchers of one job and result type, so it is checked to belong to the renting pool.
        /// </summary>
        [ThreadStatic]
        private static JobCompletion<TJob, TResult>? t_spare;

        private readonly ConcurrentQueue<JobCompletion<TJob, TResult>> _items = new();
        private int _count;

        public JobCompletion<TJob, TResult>? TryRent()
        {
            JobCompletion<TJob, TResult>? spare = t_spare;
            if (spare is not null && ReferenceEquals(spare._pool, this))
            {
                t_spare = null;
                return spare;
            }

            if (_items.TryDequeue(out JobCompletion<TJob, TResult>? item))
            {
                Interlocked.Decrement(ref _count);
                return item;
            }

            return null;
        }

        public void Return(JobCompletion<TJob, TResult> item)
        {
            if (t_spare is null)
            {
                t_spare = item;
                return;
            }

            if (Interlocked.Increment(ref _count) <= maxSize)
            {
                _items.Enqueue(item);
            }
            else
            {
                Interlocked.Decrement(ref _count);
            }
        }
    }
}
