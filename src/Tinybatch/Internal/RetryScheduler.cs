namespace Tinybatch.Internal;

/// <summary>
/// Jobs between two attempts. A retried job keeps its place in the buffer while it waits, so producers feel the
/// backpressure of a failing sink; after its delay it re-enters the intake at the end of the line. The scheduler takes
/// charge of a job before any retry-policy code runs, asks the policy (awaiting it, never blocking on it), owns the
/// waiting on the batcher's clock, and remembers the position of each retried job's first add until its final outcome,
/// which is what flushes wait for. A stop deadline fails every job it holds, whatever the policy is doing.
/// </summary>
internal sealed class RetryScheduler<TJob>
{
    private readonly object _lock = new();
    private readonly Intake<TJob> _intake;
    private readonly RetryPolicy? _policy;
    private readonly TimeProvider _time;
    private readonly Action _poke;
    private readonly Func<long> _now;
    private readonly IRetryFailures<TJob> _failures;
    private readonly Action<RetryTicket> _onTicketDropped;
    private readonly HashSet<PendingRetry> _pending = [];
    private readonly SortedDictionary<long, int> _unfinished = [];
    private readonly SortedDictionary<long, int> _queued = [];
    private long _minUnfinished = long.MaxValue;
    private long _minQueued = long.MaxValue;
    private long _retried;
    private long _waitingWeight;

    public RetryScheduler(Intake<TJob> intake, RetryPolicy? policy, TimeProvider time, Func<long> now, Action poke, IRetryFailures<TJob> failures)
    {
        _intake = intake;
        _policy = policy;
        _time = time;
        _now = now;
        _poke = poke;
        _failures = failures;
        _onTicketDropped = OnTicketDropped;
    }

    /// <summary>Gets the number of retries scheduled so far.</summary>
    public long Retried => Volatile.Read(ref _retried);

    /// <summary>Gets the total weight of the jobs between attempts.</summary>
    public long WaitingWeight => Volatile.Read(ref _waitingWeight);

    /// <summary>Gets the position of the first add of the oldest retried job without a final outcome, or <see cref="long.MaxValue"/>.</summary>
    public long MinUnfinishedOrigin => Volatile.Read(ref _minUnfinished);

    /// <summary>Gets the position of the first add of the oldest retried job back in the queue, or <see cref="long.MaxValue"/>.</summary>
    public long MinQueuedOrigin => Volatile.Read(ref _minQueued);

    /// <summary>The lock of the scheduler's bookkeeping, for tests that check no user code runs under it.</summary>
    internal object Lock => _lock;

    /// <summary>
    /// Takes charge of a job its handler asked to retry, before any policy code runs: from now on the job is the
    /// scheduler's, and a stop deadline fails it from here. It keeps its place.
    /// </summary>
    public PendingRetry Track(in JobEntry<TJob> entry, int batchIndex)
    {
        var pending = new PendingRetry(this, entry, batchIndex);
        Interlocked.Increment(ref _retried);
        Interlocked.Add(ref _waitingWeight, entry.Weight);
        lock (_lock)
        {
            _pending.Add(pending);
            if (!entry.Reentered)
            {
                // First retry of this job: from now on its origin is tracked until its final outcome.
                Add(_unfinished, entry.Origin);
                RefreshMinimums();
            }
        }

        return pending;
    }

    /// <summary>
    /// Asks the policy about a tracked job, then schedules it. Returns false when the policy refused at once: the job is
    /// handed back, untracked, for the caller to fail. A refusal that comes later, and every retry, are the scheduler's.
    /// </summary>
    public bool Start(PendingRetry pending, Exception? reason, CancellationToken stopToken)
    {
        if (_policy is null)
        {
            ScheduleTracked(pending, reason, stopToken);
            return true;
        }

        ValueTask<bool> answer;
        try
        {
            answer = _policy.ShouldRetryAsync(pending.Entry.Attempts + 1, reason, stopToken);
        }
        catch (Exception)
        {
            _failures.OnPolicyFailure();
            return !GiveBack(pending);
        }

        if (answer.IsCompleted)
        {
            bool retry;
            try
            {
                retry = answer.GetAwaiter().GetResult();
            }
            catch (Exception)
            {
                _failures.OnPolicyFailure();
                retry = false;
            }

            if (!retry)
            {
                return !GiveBack(pending);
            }

            ScheduleTracked(pending, reason, stopToken);
            return true;
        }

        _ = AwaitDecisionAsync(pending, answer, reason, stopToken);
        return true;
    }

    /// <summary>
    /// A retried job left the queue for a batch (its ticket was read by the dispatch loop): it is no longer queued, but
    /// still unfinished until its outcome.
    /// </summary>
    public void OnDispatched(RetryTicket ticket)
    {
        lock (_lock)
        {
            Remove(_queued, ticket.Origin);
            RefreshMinimums();
        }
    }

    /// <summary>A retried job reached its final outcome.</summary>
    public void OnFinished(long origin)
    {
        lock (_lock)
        {
            Remove(_unfinished, origin);
            RefreshMinimums();
        }

        _poke();
    }

    /// <summary>A stop deadline: every job between attempts fails now. Returns them; their places are still held.</summary>
    public List<JobEntry<TJob>> TakeAllWaiting()
    {
        var taken = new List<JobEntry<TJob>>();
        lock (_lock)
        {
            foreach (PendingRetry pending in _pending)
            {
                if (pending.TryFinish())
                {
                    pending.Timer?.Dispose();
                    taken.Add(pending.Entry);
                    Interlocked.Add(ref _waitingWeight, -pending.Entry.Weight);
                    Remove(_unfinished, pending.Entry.Origin);
                }
            }

            _pending.Clear();
            RefreshMinimums();
        }

        return taken;
    }

    private async Task AwaitDecisionAsync(PendingRetry pending, ValueTask<bool> answer, Exception? reason, CancellationToken stopToken)
    {
        bool retry;
        try
        {
            retry = await answer.ConfigureAwait(false);
        }
        catch (Exception) when (!stopToken.IsCancellationRequested)
        {
            _failures.OnPolicyFailure();
            retry = false;
        }
        catch (Exception)
        {
            // The stop deadline expired while the policy decided: the abandonment has failed the job.
            return;
        }

        if (retry)
        {
            ScheduleTracked(pending, reason, stopToken);
        }
        else if (GiveBack(pending))
        {
            _failures.Fail(pending.Entry, reason);
        }
    }

    private void ScheduleTracked(PendingRetry pending, Exception? reason, CancellationToken stopToken)
    {
        ValueTask<TimeSpan> delay;
        try
        {
            delay = _policy?.GetDelayAsync(pending.Entry.Attempts + 1, reason, stopToken) ?? default;
        }
        catch (Exception)
        {
            _failures.OnPolicyFailure();
            delay = default;
        }

        if (delay.IsCompleted)
        {
            TimeSpan wait;
            try
            {
                wait = delay.GetAwaiter().GetResult();
            }
            catch (Exception)
            {
                _failures.OnPolicyFailure();
                wait = TimeSpan.Zero;
            }

            Wait(pending, wait);
        }
        else
        {
            _ = AwaitDelayAsync(pending, delay, stopToken);
        }
    }

    private async Task AwaitDelayAsync(PendingRetry pending, ValueTask<TimeSpan> delay, CancellationToken stopToken)
    {
        TimeSpan wait;
        try
        {
            wait = await delay.ConfigureAwait(false);
        }
        catch (Exception)
        {
            if (!stopToken.IsCancellationRequested)
            {
                _failures.OnPolicyFailure();
            }

            wait = TimeSpan.Zero;
        }

        Wait(pending, wait);
    }

    private void Wait(PendingRetry pending, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Reenter(pending);
            return;
        }

        lock (_lock)
        {
            if (!pending.IsOpen)
            {
                return;
            }

            pending.Timer = new LongTimer(_time, delay, static s => ((PendingRetry)s!).Owner.Reenter((PendingRetry)s), pending);
        }
    }

    private void Reenter(PendingRetry pending)
    {
        if (!Untrack(pending))
        {
            return;
        }

        JobEntry<TJob> entry = pending.Entry;
        var ticket = new RetryTicket(entry.State, entry.Attempts, entry.Origin, _onTicketDropped);
        lock (_lock)
        {
            Add(_queued, entry.Origin);
            RefreshMinimums();
        }

        // Cancellable by its caller only once it is counted as queued: a cancellation from here on undoes that count.
        (entry.State as IRequeueable)?.Requeue(ticket);
        _intake.Reenter(entry.Job, ticket, _now(), entry.Weight);
        _poke();
    }

    private void OnTicketDropped(RetryTicket ticket)
    {
        // The caller cancelled while the retried job was back in the queue: its final outcome (canceled). Told at the
        // cancellation, so a flush does not wait until the loop reaches the skipped entry; the ticket tells it once.
        lock (_lock)
        {
            Remove(_queued, ticket.Origin);
            Remove(_unfinished, ticket.Origin);
            RefreshMinimums();
        }
    }

    /// <summary>Untracks a refused job and forgets its origin; false when a stop deadline took it first.</summary>
    private bool GiveBack(PendingRetry pending)
    {
        if (!Untrack(pending))
        {
            return false;
        }

        lock (_lock)
        {
            Remove(_unfinished, pending.Entry.Origin);
            RefreshMinimums();
        }

        return true;
    }

    private bool Untrack(PendingRetry pending)
    {
        lock (_lock)
        {
            if (!pending.TryFinish())
            {
                return false;
            }

            _pending.Remove(pending);
            Interlocked.Add(ref _waitingWeight, -pending.Entry.Weight);
            return true;
        }
    }

    private void RefreshMinimums()
    {
        Volatile.Write(ref _minUnfinished, First(_unfinished));
        Volatile.Write(ref _minQueued, First(_queued));

        static long First(SortedDictionary<long, int> set)
        {
            foreach (long key in set.Keys)
            {
                return key;
            }

            return long.MaxValue;
        }
    }

    private static void Add(SortedDictionary<long, int> set, long key) => set[key] = set.GetValueOrDefault(key) + 1;

    private static void Remove(SortedDictionary<long, int> set, long key)
    {
        if (set.TryGetValue(key, out int count))
        {
            if (count <= 1)
            {
                set.Remove(key);
            }
            else
            {
                set[key] = count - 1;
            }
        }
    }

    /// <summary>One job between attempts; finished exactly once: re-entered, failed by the policy, or abandoned.</summary>
    internal sealed class PendingRetry(RetryScheduler<TJob> owner, JobEntry<TJob> entry, int batchIndex)
    {
        private int _finished;

        public RetryScheduler<TJob> Owner { get; } = owner;

        public JobEntry<TJob> Entry { get; } = entry;

        /// <summary>The job's index in the batch that asked for the retry.</summary>
        public int BatchIndex { get; } = batchIndex;

        public LongTimer? Timer { get; set; }

        public bool IsOpen => Volatile.Read(ref _finished) == 0;

        public bool TryFinish() => Interlocked.Exchange(ref _finished, 1) == 0;
    }
}

/// <summary>An awaiter's completion that can be claimed again after its job goes back into the queue for a retry.</summary>
internal interface IRequeueable
{
    /// <summary>
    /// Makes the job cancellable by its caller again while it is queued; a cancellation then tells
    /// <paramref name="ticket"/> (<see cref="RetryTicket.OnCanceled"/>) before the loop is poked.
    /// </summary>
    void Requeue(RetryTicket ticket);
}

/// <summary>How the retry scheduler hands back jobs it will not retry, and reports a policy that threw.</summary>
internal interface IRetryFailures<TJob>
{
    /// <summary>The policy refused the retry, later than at once: the job fails with <paramref name="reason"/>, its final outcome.</summary>
    void Fail(in JobEntry<TJob> entry, Exception? reason);

    /// <summary>The retry policy threw: counted as a callback failure.</summary>
    void OnPolicyFailure();
}
