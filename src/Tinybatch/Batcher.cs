using System.Collections.Concurrent;
using System.Diagnostics;
using Tinybatch.Internal;

namespace Tinybatch;

/// <summary>
/// Groups jobs into batches and hands each batch to a handler when it is full (<see cref="BatcherOptions.MaxBatchSize"/>
/// or <see cref="BatcherOptions.MaxBatchWeight"/>) or when its first job has waited
/// <see cref="BatcherOptions.MaxBatchDelay"/>, whichever comes first. Every accepted job ends in exactly one outcome.
/// </summary>
/// <typeparam name="TJob">The job type.</typeparam>
/// <typeparam name="TResult">The result type: result <c>i</c> of a batch belongs to job <c>i</c>.</typeparam>
/// <remarks>
/// Producers hand jobs over through a lock-free queue; one dispatch loop, which never runs user code, cuts batches and
/// queues them to the thread pool, where the handler runs. See docs/ARCHITECTURE.md.
/// </remarks>
[DebuggerDisplay("{Name}: {State}, pending = {PendingCount}, in flight = {InFlightBatches}")]
public sealed partial class Batcher<TJob, TResult> : IBatcher<TJob, TResult>, IAsyncDisposable, IDisposable, IBatcherTelemetrySource
{
    private const int StateCreated = 0;
    private const int StateRunning = 1;
    private const int StateStopping = 2;
    private const int StateStopped = 3;

    // Settings, copied and validated at construction.
    private readonly Func<Batch<TJob, TResult>, CancellationToken, ValueTask> _handler;
    private readonly string _name;
    private readonly int _maxBatchSize;
    private readonly long _maxBatchWeight;
    private readonly int _capacity;
    private readonly int _maxConcurrentBatches;
    private readonly BatchingMode _mode;
    private readonly OverflowPolicy _overflow;
    private readonly TimeSpan _maxBatchDelay;
    private readonly TimeSpan _handlerTimeout;
    private readonly TimeProvider _time;
    private readonly Func<TJob, long>? _weigher;
    private readonly Action<Batch<TJob, TResult>>? _onBatchCompleted;
    private readonly Action<DeadLetter<TJob>>? _onDeadLetter;
    private readonly RetryPolicy? _retry;
    private readonly int _maxAttempts;
    private readonly bool _retryFailedBatches;
    private readonly BatcherTelemetry _telemetry;
    private readonly bool _stampJobs;
    private readonly int _compactionThreshold;
    private readonly bool _stampEveryJob;
    private readonly ulong _batchSizeMultiplier;
    private readonly bool _systemClock;
    private readonly bool _unsetJobsSucceed;
    private readonly long _maxJobWeight;

    // Shared between producers, handler threads and the loop.
    private readonly ConcurrentQueue<JobEntry<TJob>> _queue = new();
    private readonly ConcurrentQueue<Batch<TJob, TResult>> _finished = new();
    private readonly ConcurrentQueue<FlushWaiter> _orphanFlushes = new();
    private readonly JobCompletion<TJob, TResult>.CompletionPool _completionPool;
    private readonly CancellationTokenSource _handlerCts = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenRegistration _lifetimeRegistration;
    private int _state;
    private int _started;
    private int _abandonRequested;
    private int _flushRequests;
    private PaddedLong _pendingSlot;
    private long _pendingWeight;
    private long _retryWaiting;
    private int _inFlightBatches;
    private long _inFlightJobs;

    // Counters: see BatcherCounters.
    private readonly StripedCounter _accepted = new();
    private long _succeeded;
    private long _failed;
    private long _canceled;
    private long _dropped;
    private long _rejected;
    private long _retried;
    private long _batches;
    private long _callbackFailures;

    /// <summary>Creates a batcher with an asynchronous handler that returns one result per job, by position.</summary>
    /// <param name="processBatch">
    /// The batch function: it receives the batch's jobs and returns their results, result <c>i</c> for job <c>i</c>.
    /// An exception fails every job of the batch with that exception; a null list or a wrong count fails them with
    /// <see cref="BatchResultCountException"/>. The list of jobs is valid only during the call.
    /// </param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <param name="lifetime">When cancelled, the batcher stops accepting jobs and drains, as <see cref="StopAsync"/> does.</param>
    /// <exception cref="ArgumentNullException"><paramref name="processBatch"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public Batcher(
        Func<IReadOnlyList<TJob>, CancellationToken, ValueTask<IReadOnlyList<TResult>>> processBatch,
        BatcherOptions<TJob, TResult>? options = null,
        CancellationToken lifetime = default)
        : this(HandlerAdapters.FromAsync(processBatch ?? throw new ArgumentNullException(nameof(processBatch))), options, lifetime)
    {
    }

    /// <summary>Creates a batcher with a synchronous handler that returns one result per job, by position.</summary>
    /// <param name="processBatch">The batch function; it runs on a thread-pool thread, never on a producer's.</param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <param name="lifetime">When cancelled, the batcher stops accepting jobs and drains, as <see cref="StopAsync"/> does.</param>
    /// <exception cref="ArgumentNullException"><paramref name="processBatch"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public Batcher(
        Func<IReadOnlyList<TJob>, CancellationToken, IReadOnlyList<TResult>> processBatch,
        BatcherOptions<TJob, TResult>? options = null,
        CancellationToken lifetime = default)
        : this(HandlerAdapters.FromSync(processBatch ?? throw new ArgumentNullException(nameof(processBatch))), options, lifetime)
    {
    }

    /// <summary>Creates a batcher with a handler type, for dependency injection.</summary>
    /// <param name="handler">The handler.</param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <param name="lifetime">When cancelled, the batcher stops accepting jobs and drains, as <see cref="StopAsync"/> does.</param>
    /// <exception cref="ArgumentNullException"><paramref name="handler"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public Batcher(
        IBatchHandler<TJob, TResult> handler,
        BatcherOptions<TJob, TResult>? options = null,
        CancellationToken lifetime = default)
        : this((handler ?? throw new ArgumentNullException(nameof(handler))).HandleAsync, options, lifetime)
    {
    }

    /// <summary>
    /// Creates a batcher whose handler reports each job's outcome on the <see cref="Batch{TJob, TResult}"/>: a result,
    /// an exception, or a retry. A job left without an outcome when the handler returns fails.
    /// </summary>
    /// <param name="handleBatch">The batch handler.</param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <param name="lifetime">When cancelled, the batcher stops accepting jobs and drains, as <see cref="StopAsync"/> does.</param>
    /// <exception cref="ArgumentNullException"><paramref name="handleBatch"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public Batcher(
        Func<Batch<TJob, TResult>, CancellationToken, ValueTask> handleBatch,
        BatcherOptions<TJob, TResult>? options = null,
        CancellationToken lifetime = default)
    {
        ArgumentNullException.ThrowIfNull(handleBatch);
        options ??= new BatcherOptions<TJob, TResult>();
        ThrowIfInvalid(options);

        _handler = handleBatch;
        _name = options.Name;
        _maxBatchSize = options.MaxBatchSize;
        _maxBatchWeight = options.MaxBatchWeight;
        _capacity = options.Capacity;
        _maxConcurrentBatches = options.MaxConcurrentBatches;
        _mode = options.Mode;
        _overflow = options.OverflowPolicy;
        _maxBatchDelay = options.MaxBatchDelay;
        _handlerTimeout = options.HandlerTimeout;
        _time = options.TimeProvider;
        _weigher = options.Weigher;
        _unsetJobsSucceed = options.UnsetJobsSucceed;
        _maxJobWeight = Math.Min(options.MaxJobWeight ?? long.MaxValue, Math.Min(options.MaxBatchWeight, options.MaxBufferedWeight));
        _onBatchCompleted = options.OnBatchCompleted;
        _onDeadLetter = options.OnDeadLetter;
        _retry = options.Retry?.Freeze();
        _maxAttempts = _retry?.MaxAttempts ?? 3;
        _retryFailedBatches = _retry?.RetryFailedBatches ?? false;
        _completionPool = new JobCompletion<TJob, TResult>.CompletionPool(Math.Min(_capacity, 1 << 16));
        _batchPool = new ObjectPool<Batch<TJob, TResult>>(_maxConcurrentBatches + 2);
        _telemetry = BatcherTelemetry.For(options.MeterFactory);
        _systemClock = ReferenceEquals(_time, TimeProvider.System);

        // Add times matter only for a finite, positive delay that can release a batch; a single slot in adaptive mode
        // is released by the slot alone. (The wait-time histogram stamps jobs while it listens.)
        _stampJobs = _maxBatchDelay > TimeSpan.Zero && _maxBatchDelay != Timeout.InfiniteTimeSpan
            && !(_mode == BatchingMode.Adaptive && _maxConcurrentBatches == 1);
        _stampEveryJob = !_systemClock || _weigher is not null;

        // Cancelled entries allowed to linger in the queue before the loop compacts it: memory stays within about
        // twice the buffer, and compaction (linear in the queue) runs at most once per that many cancellations.
        _compactionThreshold = Math.Max(1024, _capacity);
        _batchSizeMultiplier = (ulong.MaxValue / (uint)_maxBatchSize) + 1;
        using (ExecutionContext.SuppressFlow())
        {
            _timer = _time.CreateTimer(static s => ((Batcher<TJob, TResult>)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        _telemetry.Register(this);

        // Registered last: an already-cancelled token runs the callback now, and every add must then throw.
        _lifetimeRegistration = lifetime.UnsafeRegister(static s => ((Batcher<TJob, TResult>)s!).BeginStop(), this);
    }

    /// <summary>Gets the batcher's name, from <see cref="BatcherOptions.Name"/>.</summary>
    public string Name => _name;

    /// <summary>Gets the batcher's lifecycle state.</summary>
    public BatcherState State => (BatcherState)Volatile.Read(ref _state);

    /// <summary>Gets the number of accepted jobs not yet dispatched (the queue depth).</summary>
    public long PendingCount => Math.Max(0, Volatile.Read(ref _pendingSlot.Value)) + Volatile.Read(ref _retryWaiting);

    /// <summary>Gets the number of batches whose handler is running.</summary>
    public int InFlightBatches => Volatile.Read(ref _inFlightBatches);

    /// <summary>Gets a task that completes when the batcher has stopped and every accepted job has an outcome.</summary>
    public Task Completion => _stopped.Task;

    /// <summary>Gets a snapshot of the counters. Each value is read atomically; together they may be a moment apart.</summary>
    public BatcherCounters Counters => new(
        Accepted: _accepted.Value,
        Succeeded: Volatile.Read(ref _succeeded),
        Failed: Volatile.Read(ref _failed),
        Canceled: Volatile.Read(ref _canceled),
        Dropped: Volatile.Read(ref _dropped),
        Rejected: Volatile.Read(ref _rejected),
        Retried: Volatile.Read(ref _retried),
        Pending: PendingCount,
        InFlight: Volatile.Read(ref _inFlightJobs),
        Batches: Volatile.Read(ref _batches),
        CallbackFailures: Volatile.Read(ref _callbackFailures));

    /// <summary>
    /// Starts dispatching. Calling it again does nothing. Jobs added before <see cref="Start"/> are buffered (up to
    /// <see cref="BatcherOptions.Capacity"/>) and flow once it runs.
    /// </summary>
    public void Start()
    {
        Interlocked.CompareExchange(ref _state, StateRunning, StateCreated);
        EnsureLoop();
    }

    /// <summary>Starts the loop once, whoever asks first: <see cref="Start"/> or a stop before it.</summary>
    private void EnsureLoop()
    {
        if (Interlocked.CompareExchange(ref _started, 1, 0) != 0)
        {
            return;
        }

        // The loop must not capture the starter's ExecutionContext (AsyncLocals, activities) for its whole life.
        using (ExecutionContext.SuppressFlow())
        {
            _ = Task.Run(RunLoopAsync);
        }
    }

    private static JobCompletion<TJob, TResult>? CompletionOf(in JobEntry<TJob> entry) => entry.State as JobCompletion<TJob, TResult>;

    private static void ThrowIfInvalid(BatcherOptions options)
    {
        IReadOnlyList<string> errors = options.Validate();
        if (errors.Count == 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), errors[0]);
        }

        if (errors.Count > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Invalid batcher options: " + string.Join(" ", errors));
        }

    }
}
