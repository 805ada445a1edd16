using System.Collections.Concurrent;
using System.Diagnostics;
using Tinybatch.Internal;

namespace Tinybatch.Partitioning;

/// <summary>
/// Batches jobs per key (a stream, a tenant, a table): jobs with different keys never share a batch. Each key has
/// its own <see cref="Batcher{TJob, TResult}"/>, with its own size, weight and delay triggers, created on the first
/// job with that key and retired once idle for <see cref="PartitionedBatcherOptions{TKey, TJob, TResult}.IdleTimeout"/>.
/// </summary>
/// <typeparam name="TKey">The partition key type.</typeparam>
/// <typeparam name="TJob">The job type.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
/// <remarks>
/// Each partition's delay timer starts at its own first job, and
/// <see cref="PartitionedBatcherOptions{TKey, TJob, TResult}.MaxBatchDelayJitter"/> spreads partitions created at
/// the same moment, so their timers do not fire in one burst. A job added while its partition retires is never lost:
/// either the retiring partition accepted it and drains it, or the add goes to a fresh partition. Jobs of one key
/// keep their order except across a retirement, when the old partition's last jobs may run beside the new one's first.
/// </remarks>
[DebuggerDisplay("{Name}: partitions = {PartitionCount}")]
public sealed partial class PartitionedBatcher<TKey, TJob, TResult> : IAsyncDisposable
    where TKey : notnull
{
    /// <summary>The longest sweep period: a day, well within what a timer accepts.</summary>
    private static readonly TimeSpan MaxSweepPeriod = TimeSpan.FromDays(1);

    private readonly Func<TJob, TKey> _keySelector;
    private readonly Func<TKey, Batch<TJob, TResult>, CancellationToken, ValueTask> _handler;
    private readonly BatcherOptions<TJob, TResult> _template;
    private readonly Func<TKey, BatcherOptions<TJob, TResult>>? _partitionOptions;
    private readonly string _name;
    private readonly TimeProvider _time;
    private readonly TimeSpan _idleTimeout;
    private readonly int _maxPartitions;
    private readonly TimeSpan _jitter;
    private readonly Func<double> _randomizer;
    private readonly ConcurrentDictionary<TKey, Partition<TKey, TJob, TResult>> _partitions;
    private readonly CancellationTokenRegistration _lifetimeRegistration;

    /// <summary>Creates a partitioned batcher whose handler reports each job's outcome on the batch.</summary>
    /// <param name="keySelector">Returns the partition key of a job. It runs on the producer's thread, once per add.</param>
    /// <param name="handleBatch">The batch handler: it receives the partition key and a batch of jobs with that key.</param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <param name="lifetime">When cancelled, every partition stops accepting jobs and drains, as <see cref="StopAsync"/> does.</param>
    /// <exception cref="ArgumentNullException"><paramref name="keySelector"/> or <paramref name="handleBatch"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public PartitionedBatcher(
        Func<TJob, TKey> keySelector,
        Func<TKey, Batch<TJob, TResult>, CancellationToken, ValueTask> handleBatch,
        PartitionedBatcherOptions<TKey, TJob, TResult>? options = null,
        CancellationToken lifetime = default)
    {
        ArgumentNullException.ThrowIfNull(keySelector);
        ArgumentNullException.ThrowIfNull(handleBatch);
        options ??= new PartitionedBatcherOptions<TKey, TJob, TResult>();
        ThrowIfInvalid(options);

        _keySelector = keySelector;
        _handler = handleBatch;

        // Copied, so later changes to the caller's options affect no partition, as with a plain batcher.
        _template = new BatcherOptions<TJob, TResult>();
        options.Partition.CopyTo(_template);
        _partitionOptions = options.PartitionOptions;
        _name = _template.Name;
        _time = _template.TimeProvider;
        _idleTimeout = options.IdleTimeout;
        _maxPartitions = options.MaxPartitions;
        _jitter = options.MaxBatchDelayJitter;
        _randomizer = options.Randomizer ?? Random.Shared.NextDouble;
        _partitions = new ConcurrentDictionary<TKey, Partition<TKey, TJob, TResult>>(options.KeyComparer);
        if (_idleTimeout != Timeout.InfiniteTimeSpan)
        {
            // Every half idle timeout, but at least every MaxSweepPeriod: a timer's period has a limit (about 49.7 days),
            // and sweeping more often than needed only checks the partitions again.
            TimeSpan period = TimeSpan.FromTicks(Math.Clamp(_idleTimeout.Ticks / 2, TimeSpan.TicksPerMillisecond, MaxSweepPeriod.Ticks));
            using (ExecutionContext.SuppressFlow())
            {
                _sweepTimer = _time.CreateTimer(static s => ((PartitionedBatcher<TKey, TJob, TResult>)s!).Sweep(), this, period, period);
            }
        }

        // Registered last: an already-cancelled token stops the batcher now.
        _lifetimeRegistration = lifetime.UnsafeRegister(static s => _ = ((PartitionedBatcher<TKey, TJob, TResult>)s!).StopAsync(), this);
    }

    /// <summary>Creates a partitioned batcher with a handler that returns one result per job, by position.</summary>
    /// <param name="keySelector">Returns the partition key of a job. It runs on the producer's thread, once per add.</param>
    /// <param name="processBatch">
    /// The batch function: it receives the partition key and the batch's jobs and returns their results, result
    /// <c>i</c> for job <c>i</c>. An exception fails every job of the batch.
    /// </param>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <param name="lifetime">When cancelled, every partition stops accepting jobs and drains, as <see cref="StopAsync"/> does.</param>
    /// <exception cref="ArgumentNullException"><paramref name="keySelector"/> or <paramref name="processBatch"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public PartitionedBatcher(
        Func<TJob, TKey> keySelector,
        Func<TKey, IReadOnlyList<TJob>, CancellationToken, ValueTask<IReadOnlyList<TResult>>> processBatch,
        PartitionedBatcherOptions<TKey, TJob, TResult>? options = null,
        CancellationToken lifetime = default)
        : this(keySelector, FromPositional(processBatch ?? throw new ArgumentNullException(nameof(processBatch))), options, lifetime)
    {
    }

    /// <summary>Gets the name of the partitioned batcher, from the <see cref="BatcherOptions.Name"/> of its partition settings.</summary>
    public string Name => _name;

    /// <summary>Gets the number of live partitions (retiring ones excluded).</summary>
    public int PartitionCount => _partitions.Count;

    /// <summary>Gets how many partitions were created so far.</summary>
    public long PartitionsCreated => Volatile.Read(ref _partitionsCreated);

    /// <summary>Gets how many partitions were retired for idleness so far.</summary>
    public long PartitionsRetired => Volatile.Read(ref _partitionsRetired);

    /// <summary>Gets the number of accepted jobs not yet dispatched, across every partition.</summary>
    public long PendingCount => Counters.Pending;

    /// <summary>
    /// Gets the sum of the counters of every partition, live, retiring or retired, plus the adds this batcher
    /// refused itself (partition limit, stopped). An add refused by a retiring partition and then accepted by a fresh
    /// one counts once, as accepted. Once drained, <c>Accepted == Succeeded + Failed + Canceled + Dropped</c>.
    /// </summary>
    public BatcherCounters Counters
    {
        get
        {
            BatcherCounters sum;
            lock (_gate)
            {
                sum = _retiredTotals;
                foreach (Partition<TKey, TJob, TResult> partition in _all)
                {
                    sum = Add(sum, partition.Batcher.Counters);
                }
            }

            return sum with { Rejected = sum.Rejected + Volatile.Read(ref _refused) - Volatile.Read(ref _rerouted) };
        }
    }

    /// <summary>Returns the batcher of a key's live partition, if it has one.</summary>
    /// <param name="key">The partition key.</param>
    /// <param name="batcher">The partition's batcher.</param>
    /// <returns><see langword="true"/> if the key has a live partition.</returns>
    public bool TryGetPartition(TKey key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Batcher<TJob, TResult> batcher)
    {
        if (_partitions.TryGetValue(key, out Partition<TKey, TJob, TResult>? partition))
        {
            batcher = partition.Batcher;
            return true;
        }

        batcher = null;
        return false;
    }

    private static Func<TKey, Batch<TJob, TResult>, CancellationToken, ValueTask> FromPositional(
        Func<TKey, IReadOnlyList<TJob>, CancellationToken, ValueTask<IReadOnlyList<TResult>>> processBatch) =>
        (key, batch, cancellationToken) =>
            HandlerAdapters.FromAsync<TJob, TResult>((jobs, ct) => processBatch(key, jobs, ct))(batch, cancellationToken);

    private static BatcherCounters Add(BatcherCounters a, BatcherCounters b) => new(
        Accepted: a.Accepted + b.Accepted,
        Succeeded: a.Succeeded + b.Succeeded,
        Failed: a.Failed + b.Failed,
        Canceled: a.Canceled + b.Canceled,
        Dropped: a.Dropped + b.Dropped,
        Rejected: a.Rejected + b.Rejected,
        Retried: a.Retried + b.Retried,
        Pending: a.Pending + b.Pending,
        InFlight: a.InFlight + b.InFlight,
        Batches: a.Batches + b.Batches,
        CallbackFailures: a.CallbackFailures + b.CallbackFailures);

    private static void ThrowIfInvalid(PartitionedBatcherOptions<TKey, TJob, TResult> options)
    {
        IReadOnlyList<string> errors = options.Validate();
        if (errors.Count == 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), errors[0]);
        }

        if (errors.Count > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Invalid partitioned batcher options: " + string.Join(" ", errors));
        }
    }
}
