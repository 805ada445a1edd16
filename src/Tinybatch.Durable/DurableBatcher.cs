using System.Diagnostics;
using Tinybatch.Durable.Internal;

namespace Tinybatch.Durable;

/// <summary>
/// A batcher whose intake survives the process: every job is written to a journal on disk, and its add completes
/// only once a commit covers it. Jobs without a final outcome are replayed first, in their original order and with
/// their attempt counts, when a batcher is started on the same directory again. The promise: every accepted job reaches
/// the handler at least once; with a sink made idempotent on <see cref="DurableJob{TJob}.SequenceId"/>, exactly once.
/// </summary>
/// <remarks>
/// Composed of a <see cref="Batcher{TJob}"/> (batching, capacity, overflow, retries, shutdown) and the
/// journal: the batcher's outcomes release jobs from the journal, and its weights are the jobs' journal bytes, so
/// <see cref="BatcherOptions.MaxBufferedWeight"/> is the journal's byte capacity, held with the same
/// <see cref="BatcherOptions.OverflowPolicy"/> as <see cref="BatcherOptions.Capacity"/>.
/// </remarks>
/// <typeparam name="TJob">The job type.</typeparam>
[DebuggerDisplay("{Name}: {State}, Pending = {PendingCount}")]
public sealed partial class DurableBatcher<TJob> : IBatcher<TJob>, IAsyncDisposable, IDisposable
{
    private readonly Batcher<Journalled<TJob>> _batcher;
    private readonly Internal.Journal _journal;
    private readonly IJobSerializer<TJob> _serializer;
    private readonly Func<DurableBatch<TJob>, CancellationToken, ValueTask> _handleBatch;
    private readonly Action<DeadLetter<DurableJob<TJob>>>? _onDeadLetter;
    private readonly int _maxAttempts;

    /// <summary>
    /// Opens the journal in <see cref="DurableBatcherOptions{TJob}.Directory"/> and recovers what it holds (reading the
    /// files happens here); call <see cref="Start"/> to replay the recovered jobs and begin dispatching.
    /// </summary>
    /// <param name="handleBatch">The batch handler.</param>
    /// <param name="options">The settings; validated and copied here.</param>
    /// <param name="lifetime">A token whose cancellation stops the batcher.</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public DurableBatcher(Func<DurableBatch<TJob>, CancellationToken, ValueTask> handleBatch, DurableBatcherOptions<TJob> options, CancellationToken lifetime = default)
    {
        ArgumentNullException.ThrowIfNull(handleBatch);
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid durable batcher options: {string.Join(" ", errors)}", nameof(options));
        }

        _handleBatch = handleBatch;
        _serializer = options.Serializer ?? new JsonJobSerializer<TJob>(options.JsonTypeInfo!);
        _onDeadLetter = options.OnDeadLetter;
        _maxAttempts = options.Retry?.MaxAttempts ?? 3;

        var core = new BatcherOptions<Journalled<TJob>>();
        options.CopyTo(core);
        core.Retry = options.Retry;
        core.Weigher = static item => item.Bytes;

        // The byte budget is held on the journal (see DurableBatcher.Capacity.cs); the memory buffer keeps the count one.
        _maxBytes = options.MaxBufferedWeight;
        _policy = options.OverflowPolicy;
        core.MaxBufferedWeight = long.MaxValue;
        core.OnBatchCompleted = OnBatchCompleted;
        core.OnDeadLetter = OnCoreDeadLetter;

        var settings = new JournalSettings(Path.GetFullPath(options.Directory!), options.CommitMode, options.CommitInterval,
            options.SegmentBytes, options.TimeProvider, options.OnJournalProblem);
        _journal = Internal.Journal.Open(settings, options.FileSystem);
        _batcher = new Batcher<Journalled<TJob>>(HandleAsync, core, lifetime);
        if (_journal.Recovered.Count > 0)
        {
            // Adds made before Start wait too: recovered jobs keep their place at the front.
            _replayDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _replay = _replayDone.Task;
        }
    }

    /// <inheritdoc/>
    public string Name => _batcher.Name;

    /// <inheritdoc/>
    public BatcherState State => _batcher.State;

    /// <inheritdoc/>
    public long PendingCount => _batcher.PendingCount;

    /// <inheritdoc/>
    public BatcherCounters Counters => _batcher.Counters;

    /// <summary>Gets the counters of the journal: commits, bytes, recovery findings, live jobs and disk use.</summary>
    public JournalCounters JournalCounters => _journal.Counters;

    /// <summary>Gets how many unfinished jobs recovery found when the batcher was created; they are replayed on start.</summary>
    public int RecoveredCount => _journal.Recovered.Count;

    /// <summary>Gets the batcher's completion: it completes when the batcher has stopped.</summary>
    public Task Completion => _batcher.Completion;

    /// <summary>Test hook: waits until everything appended so far is committed.</summary>
    internal ValueTask CommitForTestAsync() => _journal.WaitForCommitAsync(_journal.AppendAttempts([]));

    /// <summary>Test hook: stops the journal as a killed process would, dropping what is not committed yet.</summary>
    internal ValueTask SimulateCrashAsync() => _journal.CrashAsync();
}
