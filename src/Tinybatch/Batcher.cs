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
/// The batcher composes its parts (docs/ARCHITECTURE.md): the settings snapshot, the intake (the bounded ring producers
/// write to), the dispatch loop, the retry scheduler, the dead-letter outbox and the space waiters. This class holds the
/// public API, the lifecycle and the counters, and runs each batch (<c>Batcher.Run.cs</c>).
/// </remarks>
[DebuggerDisplay("{Name}: {State}, pending = {PendingCount}, in flight = {InFlightBatches}")]
public sealed partial class Batcher<TJob, TResult> : IBatcher<TJob, TResult>, IAsyncDisposable, IDisposable, IBatcherTelemetrySource, IRetryFailures<TJob>
{
    private const int StateCreated = 0;
    private const int StateRunning = 1;
    private const int StateStopping = 2;
    private const int StateStopped = 3;

    private readonly Func<Batch<TJob, TResult>, CancellationToken, ValueTask> _handler;
    private readonly BatcherSettings<TJob, TResult> _settings;
    private readonly SpaceWaiters _spaceWaiters = new();
    private readonly Intake<TJob> _intake;
    private readonly DispatchLoop<TJob, TResult> _loop;
    private readonly RetryScheduler<TJob> _retries;
    private readonly FlushRegistry _flushes = new();
    private readonly DeadLetterOutbox<TJob> _outbox;
    private readonly BatcherTelemetry _telemetry;
    private readonly JobCompletion<TJob, TResult>.CompletionPool _completionPool;
    private readonly CancellationTokenSource _handlerCts = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenRegistration _lifetimeRegistration;
    private ExecutionContext? _callbackContext;
    private int _state;

    // Counters: see BatcherCounters. Accepted and the places in use come from the intake, retries from the scheduler.
    private long _succeeded;
    private long _failed;
    private long _canceled;
    private long _dropped;
    private long _rejected;
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
        _settings = new BatcherSettings<TJob, TResult>(options);
        _intake = new Intake<TJob>(_settings.Capacity, _settings.MaxBufferedWeight, _settings.Weighted, _settings.MaxBatchSize, _spaceWaiters);
        _retries = new RetryScheduler<TJob>(_intake, _settings.Retry, _settings.Time, Now, Poke, this);
        _loop = new DispatchLoop<TJob, TResult>(this, _settings, _intake, _retries, _flushes);
        _outbox = new DeadLetterOutbox<TJob>(_settings.OnDeadLetter, () => _callbackContext, CountCallbackFailure, Poke);
        _completionPool = new JobCompletion<TJob, TResult>.CompletionPool((int)Math.Min(_settings.Capacity, 1024));
        _telemetry = BatcherTelemetry.For(_settings.MeterFactory);
        _telemetry.Register(this);

        // Registered last: an already-cancelled token runs the callback now, and every add must then be refused.
        _lifetimeRegistration = lifetime.UnsafeRegister(static s => ((Batcher<TJob, TResult>)s!).BeginStop(fromCallback: true), this);
    }

    /// <summary>Gets the batcher's name, from <see cref="BatcherOptions.Name"/>.</summary>
    public string Name => _settings.Name;

    /// <summary>Gets the batcher's lifecycle state.</summary>
    public BatcherState State => (BatcherState)Volatile.Read(ref _state);

    /// <summary>Gets the number of accepted jobs not yet dispatched, jobs waiting for a retry included (the queue depth).</summary>
    public long PendingCount => Math.Max(0, _intake.PlacesInUse - _loop.InFlightJobs);

    /// <summary>Gets the number of batches whose handler is running.</summary>
    public int InFlightBatches => _loop.InFlightBatches;

    /// <summary>Gets a task that completes when the batcher has stopped and every accepted job has an outcome.</summary>
    public Task Completion => _stopped.Task;

    /// <summary>Gets a snapshot of the counters. Each value is read atomically; together they may be a moment apart.</summary>
    public BatcherCounters Counters => new(
        Accepted: _intake.Accepted,
        Succeeded: Volatile.Read(ref _succeeded),
        Failed: Volatile.Read(ref _failed),
        Canceled: Volatile.Read(ref _canceled),
        Dropped: Volatile.Read(ref _dropped),
        Rejected: Volatile.Read(ref _rejected),
        Retried: _retries.Retried,
        Pending: PendingCount,
        InFlight: _loop.InFlightJobs,
        Batches: Volatile.Read(ref _batches),
        CallbackFailures: Volatile.Read(ref _callbackFailures));

    /// <summary>Whether intake is closed: a stop began (or the lifetime token was cancelled).</summary>
    internal bool IsStopping => Volatile.Read(ref _state) >= StateStopping;

    /// <summary>Callbacks still to run before a drain is complete: dead letters and completion callbacks posted.</summary>
    internal int CallbacksPending => _outbox.Pending;

    /// <summary>Whether a posted callback has run for more than a second: a stop past its deadline no longer waits for it.</summary>
    internal bool CallbacksStuck => _outbox.IsStuck;

    /// <summary>Test hook: the locks the batcher's parts hold for their bookkeeping; no user code may run under one.</summary>
    internal IReadOnlyList<object> InternalLocks => [_intake.ConsumerLock, _spaceWaiters.Lock, _retries.Lock, _flushes.Lock];

    /// <summary>The intake, for tests.</summary>
    internal Intake<TJob> Intake => _intake;

    /// <summary>Test hook: whether the dispatch loop is asleep.</summary>
    internal bool IsLoopAsleep => _loop.IsAsleep;

    /// <summary>Test hook: the number of adds waiting for space.</summary>
    internal int SpaceWaiterCount => _spaceWaiters.Count;

    /// <summary>
    /// Starts dispatching. Calling it again does nothing. Jobs added before <see cref="Start"/> are buffered (up to
    /// <see cref="BatcherOptions.Capacity"/>) and flow once it runs.
    /// </summary>
    public void Start()
    {
        Interlocked.CompareExchange(ref _state, StateRunning, StateCreated);
        _loop.EnsureStarted();
    }

    /// <summary>Test hook: completes when the loop next goes to sleep with no batch in flight.</summary>
    internal Task WhenIdleAsync() => _loop.WhenIdleAsync();

    /// <summary>Reads the batcher's clock: the system clock directly (no virtual call), any other through its provider.</summary>
    internal long Now() => _settings.SystemClock ? Stopwatch.GetTimestamp() : _settings.Time.GetTimestamp();

    private void Poke() => _loop.Poke();

    private void CountCallbackFailure() => Interlocked.Increment(ref _callbackFailures);

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
