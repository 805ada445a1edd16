using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tinybatch.Internal;

/// <summary>
/// Where accepted jobs wait for their batch, and the count of places they hold.
/// </summary>
/// <remarks>
/// <para><b>Places.</b> A job holds a place from its acceptance until its final outcome: queued, inside a handler call or
/// waiting for a retry. <c>claimed</c> counts every place ever taken and <c>released</c> every place given back; a
/// producer takes a place with one compare-and-swap on <c>claimed</c> that also checks the capacity. The value it
/// claims is the job's position: the order of adds, so jobs whose adds are ordered are dispatched in that order.</para>
/// <para><b>The ring.</b> A producer writes its job into the ring slot of its position and publishes it (Vyukov's
/// bounded queue: a sequence number per slot, no other shared write). One consumer at a time, under
/// <see cref="ConsumerLock"/>, reads the ring in position order. When the ring is full behind a slow handler, the
/// producer that finds its slot taken moves the published jobs into the <see cref="Backlog{TJob}"/> (the consumer's
/// own queue, read before the ring) and retries: the ring stays small, and memory follows the jobs actually waiting.</para>
/// <para><b>Dropped jobs.</b> A job whose caller cancelled while it was queued gives its place back at once; its entry
/// is skipped when read, dropped when moved to the backlog, and purged from the backlog by <see cref="Compact"/>.</para>
/// </remarks>
internal sealed class Intake<TJob>
{
    private const int MinRingSize = 16;
    private const int MaxRingSize = 65_536;

    private readonly long _capacity;
    private readonly long _weightBudget;
    private readonly bool _weighted;
    private readonly IntakeSlot<TJob>[] _ring;
    private readonly int _mask;
    private readonly SpaceWaiters _spaceWaiters;
    private readonly Backlog<TJob> _backlog = new();
    private PaddedLong _claimed;
    private PaddedLong _released;
    private PaddedLong _weightInUse;
    private PaddedLong _oldestQueued;
    private ConsumerCursor _cursor;
    private long _reentered;
    private long _refused;
    private int _droppedSinceCompaction;
    private long _droppedQueued;

    public Intake(long capacity, long weightBudget, bool weighted, int maxBatchSize, SpaceWaiters spaceWaiters)
    {
        _capacity = capacity;
        _weightBudget = weightBudget;
        _weighted = weighted;
        _spaceWaiters = spaceWaiters;

        // Room for every place the capacity allows (up to MaxRingSize): then a producer never finds its slot still taken
        // by a job a lap behind, which would make it wait for that job's producer (on a busy machine, a preempted thread)
        // or move the ring into the backlog under the consumer's lock. Beyond MaxRingSize the backlog takes over.
        long wanted = Math.Min(MaxRingSize, Math.Max(MinRingSize, Math.Min(capacity, MaxRingSize) + 64));
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)wanted);
        _ring = new IntakeSlot<TJob>[size];
        _mask = size - 1;
        for (int i = 0; i < size; i++)
        {
            _ring[i].Sequence = i;
        }
    }

    /// <summary>Held by whoever reads or rearranges the queued jobs: the dispatch loop, an eviction, a stop.</summary>
    public object ConsumerLock { get; } = new();

    /// <summary>Gets the number of places held: accepted jobs without a final outcome, and adds still in progress.</summary>
    public long PlacesInUse => Volatile.Read(ref _claimed.Value) - Volatile.Read(ref _released.Value);

    /// <summary>Gets every position claimed so far: the position the next add will take.</summary>
    public long Claimed => Volatile.Read(ref _claimed.Value);

    /// <summary>Gets the number of jobs accepted: claims that were neither a retry's re-entry nor refused after the fact.</summary>
    public long Accepted => Volatile.Read(ref _claimed.Value) - Volatile.Read(ref _reentered) - Volatile.Read(ref _refused);

    /// <summary>Gets the weight of the accepted jobs without a final outcome (when weighted).</summary>
    public long WeightInUse => Volatile.Read(ref _weightInUse.Value);

    /// <summary>Gets the position of the oldest queued job, or <see cref="Claimed"/> when none is queued.</summary>
    public long OldestQueued => Volatile.Read(ref _oldestQueued.Value);

    /// <summary>
    /// Gets the number of positions that left the queue: jobs taken by <see cref="Advance"/> and dropped entries skipped,
    /// moved out of the ring or purged. Unlike <see cref="OldestQueued"/> it counts the holes a purge leaves behind the
    /// oldest queued job.
    /// </summary>
    public long Left => Volatile.Read(ref _cursor.Left);

    /// <summary>
    /// Gets the number of queued jobs: the positions claimed (claims still being published count) less those that left
    /// the queue, less the entries whose callers cancelled while queued and that are still in it. A batch is full by live
    /// jobs, never by cancelled ones nor by the positions of purged ones.
    /// </summary>
    public long Queued => Math.Max(0, Volatile.Read(ref _claimed.Value) - Volatile.Read(ref _cursor.Left) - Volatile.Read(ref _droppedQueued));

    /// <summary>Gets the number of entries whose callers cancelled while they were queued, not skipped yet.</summary>
    public long CanceledQueued => Math.Max(0, Volatile.Read(ref _droppedQueued));

    /// <summary>Gets the number of dropped entries (cancelled while queued) not yet purged.</summary>
    public int DroppedSinceCompaction => Volatile.Read(ref _droppedSinceCompaction);

    /// <summary>Gets the number of jobs in the consumer's backlog, for tests.</summary>
    internal int BacklogCount => _backlog.Count;

    /// <summary>Gets the length of the backlog's array, for tests.</summary>
    internal int BacklogArrayLength => _backlog.ArrayLength;

    /// <summary>
    /// Gives the backlog's memory back when nothing is queued: called by the loop when it finds no work, so a stall's
    /// backlog does not outlive it. Takes the consumer lock only when there is an array to give up.
    /// </summary>
    public void TrimWhenEmpty()
    {
        if (_backlog.ArrayLength == 0)
        {
            return;
        }

        lock (ConsumerLock)
        {
            _backlog.Trim();
        }
    }

    /// <summary>Takes a place for a job of <paramref name="weight"/> if the capacity and the weight budget allow it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryClaim(long weight, out long position)
    {
        if (_weighted && !TryTakeWeight(weight))
        {
            position = 0;
            return false;
        }

        long claimed = Volatile.Read(ref _claimed.Value);
        while (true)
        {
            if (claimed - Volatile.Read(ref _released.Value) >= _capacity)
            {
                if (_weighted)
                {
                    Interlocked.Add(ref _weightInUse.Value, -weight);
                }

                position = 0;
                return false;
            }

            long seen = Interlocked.CompareExchange(ref _claimed.Value, claimed + 1, claimed);
            if (seen == claimed)
            {
                position = claimed;
                return true;
            }

            claimed = seen;
        }
    }

    /// <summary>Takes up to <paramref name="count"/> places in one step (jobs that weigh 1); returns how many, from <paramref name="first"/> on.</summary>
    public int TryClaimMany(int count, out long first)
    {
        long claimed = Volatile.Read(ref _claimed.Value);
        while (true)
        {
            long free = _capacity - (claimed - Volatile.Read(ref _released.Value));
            int taken = (int)Math.Clamp(free, 0, count);
            if (taken == 0)
            {
                first = 0;
                return 0;
            }

            long seen = Interlocked.CompareExchange(ref _claimed.Value, claimed + taken, claimed);
            if (seen == claimed)
            {
                first = claimed;
                return taken;
            }

            claimed = seen;
        }
    }

    /// <summary>
    /// Takes a place whatever the capacity: for a job that replaces an evicted one (whose place is given back right
    /// after), so a full buffer is exceeded by at most the evictions in progress.
    /// </summary>
    public long ClaimOverCapacity(long weight)
    {
        if (_weighted)
        {
            Interlocked.Add(ref _weightInUse.Value, weight);
        }

        return Interlocked.Increment(ref _claimed.Value) - 1;
    }

    /// <summary>
    /// Whether a job of <paramref name="weight"/> fits both limits once <paramref name="evicted"/> places holding
    /// <paramref name="evictedWeight"/> are given back (a DropOldest eviction deciding how many jobs to evict).
    /// </summary>
    public bool FitsAfterEviction(long weight, int evicted, long evictedWeight) =>
        PlacesInUse - evicted < _capacity && (!_weighted || weight <= _weightBudget - (WeightInUse - evictedWeight));

    /// <summary>Gets whether the count <c>Capacity</c>, rather than the weight budget, is what the buffer is full by.</summary>
    public bool FullByCount => PlacesInUse >= _capacity;

    /// <summary>Writes the job of a claimed position where the consumer will find it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Publish(long position, TJob job, object? state, long stamp, long weight)
    {
        ref IntakeSlot<TJob> slot = ref _ring[position & _mask];
        if (Volatile.Read(ref slot.Sequence) != position)
        {
            PublishWhenFree(position, job, state, stamp, weight);
            return;
        }

        slot.Job = job;
        slot.State = state;
        slot.Stamp = stamp;
        slot.Weight = weight;
        Volatile.Write(ref slot.Sequence, position + 1);
    }

    /// <summary>A claimed place whose add was refused after all (a stop raced it): publish nothing to dispatch, give it back.</summary>
    public void Refuse(long position, long weight)
    {
        Interlocked.Increment(ref _refused);
        Publish(position, default!, RefusedPlace.Instance, 0, weight);
        Release(1, weight);
    }

    /// <summary>
    /// Puts a job that already holds a place back in line, at the end (a retry): it takes a new position and gives the
    /// old place back, so the places in use do not change.
    /// </summary>
    public long Reenter(TJob job, object? state, long stamp, long weight)
    {
        long position = ClaimOverCapacity(weight);
        Interlocked.Increment(ref _reentered);
        Publish(position, job, state, stamp, weight);
        Release(1, weight);
        return position;
    }

    /// <summary>Gives places back (final outcomes, cancellations, drops) and wakes adds waiting for space.</summary>
    public void Release(long count, long weight)
    {
        if (count == 0)
        {
            return;
        }

        Interlocked.Add(ref _released.Value, count);
        if (_weighted && weight != 0)
        {
            Interlocked.Add(ref _weightInUse.Value, -weight);
        }

        _spaceWaiters.Wake(count);
    }

    /// <summary>A caller cancelled while its job was queued: the place is given back at once; the entry is skipped later.</summary>
    public void ReleaseDropped(long weight)
    {
        Interlocked.Increment(ref _droppedSinceCompaction);
        Interlocked.Increment(ref _droppedQueued);
        Release(1, weight);
    }

    /// <summary>What <see cref="TryPeek"/> found at the head.</summary>
    public enum Head
    {
        /// <summary>Nothing is queued.</summary>
        Empty,

        /// <summary>The next position is claimed but its producer has not published it yet.</summary>
        InProgress,

        /// <summary>A job is ready.</summary>
        Ready,
    }

    /// <summary>
    /// Finds the oldest queued job, skipping (and dropping) entries cancelled while queued. Under <see cref="ConsumerLock"/>.
    /// </summary>
    public Head TryPeek(out QueuedJob<TJob> job)
    {
        AssertConsumer();
        bool dropped = false;
        Head head = Peek(out job, ref dropped);
        if (dropped)
        {
            PublishOldest();
        }

        return head;
    }

    private Head Peek(out QueuedJob<TJob> job, ref bool dropped)
    {
        while (true)
        {
            if (_backlog.Count > 0)
            {
                job = _backlog.Peek();
                if (job.State is IDroppableState { IsDropped: true } gone)
                {
                    _backlog.Dequeue();
                    Discard(gone);
                    CountLeft();
                    dropped = true;
                    continue;
                }

                return Head.Ready;
            }

            ref IntakeSlot<TJob> slot = ref _ring[_cursor.RingHead & _mask];
            if (Volatile.Read(ref slot.Sequence) != _cursor.RingHead + 1)
            {
                job = default;
                return _cursor.RingHead < Volatile.Read(ref _claimed.Value) ? Head.InProgress : Head.Empty;
            }

            if (slot.State is IDroppableState { IsDropped: true } skipped)
            {
                Discard(skipped);
                CountLeft();
                FreeRingHead(ref slot);
                dropped = true;
                continue;
            }

            job = new QueuedJob<TJob> { Position = _cursor.RingHead, Job = slot.Job, State = slot.State, Stamp = slot.Stamp, Weight = slot.Weight };
            return Head.Ready;
        }
    }

    /// <summary>Removes the job <see cref="TryPeek"/> returned. Under <see cref="ConsumerLock"/>.</summary>
    public void Advance()
    {
        Take();
        PublishOldest();
    }

    /// <summary>
    /// Removes the job <see cref="TryPeek"/> returned without publishing the new <see cref="OldestQueued"/>: for a cut,
    /// which takes many jobs and calls <see cref="PublishProgress"/> once at its end. Producers read that value on every
    /// add, so writing it once per job would move its cache line between the cores once per job. Under
    /// <see cref="ConsumerLock"/>.
    /// </summary>
    public void Take()
    {
        AssertConsumer();
        if (_backlog.Count > 0)
        {
            _backlog.Dequeue();
        }
        else
        {
            FreeRingHead(ref _ring[_cursor.RingHead & _mask]);
        }

        CountLeft();
    }

    /// <summary>
    /// Takes a run of plain jobs (fire-and-forget, first attempt, nothing attached) straight from the ring into
    /// <paramref name="into"/>, in position order: the cut's common case, with one cursor update for the whole run. Stops
    /// at the backlog, at an unpublished slot, at a job with state (an awaiter, a retry, a trace link, a refused place:
    /// <see cref="TryPeek"/> handles those) and before a job that would take the run's weight past
    /// <paramref name="weightRoom"/>. Publish with <see cref="PublishProgress"/> afterwards. Under <see cref="ConsumerLock"/>.
    /// </summary>
    /// <returns>How many jobs were taken; their total weight is in <paramref name="takenWeight"/>.</returns>
    public int TakePlainRun(Span<JobEntry<TJob>> into, long weightRoom, out long takenWeight)
    {
        AssertConsumer();
        takenWeight = 0;
        if (_backlog.Count > 0)
        {
            return 0;
        }

        int taken = 0;
        while (taken < into.Length)
        {
            long head = _cursor.RingHead;
            ref IntakeSlot<TJob> slot = ref _ring[head & _mask];
            if (Volatile.Read(ref slot.Sequence) != head + 1 || slot.State is not null || slot.Weight > weightRoom - takenWeight)
            {
                break;
            }

            into[taken] = new JobEntry<TJob> { Job = slot.Job, Stamp = slot.Stamp, Weight = slot.Weight, Origin = head, Attempts = 1 };
            takenWeight += slot.Weight;
            FreeRingHead(ref slot);
            taken++;
        }

        Volatile.Write(ref _cursor.Left, _cursor.Left + taken);
        return taken;
    }

    /// <summary>Publishes <see cref="OldestQueued"/> after <see cref="Take"/>s. Under <see cref="ConsumerLock"/>.</summary>
    public void PublishProgress()
    {
        AssertConsumer();
        PublishOldest();
    }

    /// <summary>Gets the position of the oldest queued job as the consumer sees it now, published or not. Under <see cref="ConsumerLock"/>.</summary>
    public long HeadPosition => _backlog.Count > 0 ? _backlog.Peek().Position : _cursor.RingHead;

    /// <summary>
    /// Drops an entry whose caller cancelled while it was queued, as it leaves the queue: call it before its position is
    /// counted as left (<see cref="Advance"/>), so <see cref="Queued"/> never undercounts. Under <see cref="ConsumerLock"/>.
    /// </summary>
    public void Discard(IDroppableState dropped)
    {
        AssertConsumer();
        dropped.Drop();
        if (dropped is not RefusedPlace)
        {
            // Counted by ReleaseDropped when its caller cancelled; a refused place never was queued.
            Interlocked.Decrement(ref _droppedQueued);
        }
    }

    /// <summary>Sets the stamp of the head job (one the producer left unstamped). Under <see cref="ConsumerLock"/>.</summary>
    public void StampHead(long stamp)
    {
        AssertConsumer();
        if (_backlog.Count > 0)
        {
            _backlog.Peek().Stamp = stamp;
        }
        else
        {
            _ring[_cursor.RingHead & _mask].Stamp = stamp;
        }
    }

    /// <summary>
    /// Purges entries cancelled while queued from the backlog (the ring's are skipped as it is read), so memory stays
    /// bounded behind a stalled handler. Under <see cref="ConsumerLock"/>.
    /// </summary>
    public void Compact()
    {
        AssertConsumer();
        Interlocked.Exchange(ref _droppedSinceCompaction, 0);
        MoveRingToBacklog();
        _backlog.RemoveWhere(job =>
        {
            if (job.State is IDroppableState { IsDropped: true } dropped)
            {
                Discard(dropped);
                CountLeft();
                return true;
            }

            return false;
        });
        PublishOldest();
    }

    private bool TryTakeWeight(long weight)
    {
        long inUse = Volatile.Read(ref _weightInUse.Value);
        while (true)
        {
            // Written so that it cannot overflow: the budget and every weight are at most long.MaxValue.
            if (weight > _weightBudget - inUse)
            {
                return false;
            }

            long seen = Interlocked.CompareExchange(ref _weightInUse.Value, inUse + weight, inUse);
            if (seen == inUse)
            {
                return true;
            }

            inUse = seen;
        }
    }

    /// <summary>The ring slot of this position is still taken by a job a lap behind: make room, then publish.</summary>
    private void PublishWhenFree(long position, TJob job, object? state, long stamp, long weight)
    {
        ref IntakeSlot<TJob> slot = ref _ring[position & _mask];
        var spinner = default(SpinWait);
        while (Volatile.Read(ref slot.Sequence) != position)
        {
            lock (ConsumerLock)
            {
                MoveRingToBacklog();
            }

            if (Volatile.Read(ref slot.Sequence) != position)
            {
                // The job a lap behind is itself still being published by its producer.
                spinner.SpinOnce();
            }
        }

        slot.Job = job;
        slot.State = state;
        slot.Stamp = stamp;
        slot.Weight = weight;
        Volatile.Write(ref slot.Sequence, position + 1);
    }

    /// <summary>Moves every published ring entry, in order, into the backlog, dropping cancelled ones.</summary>
    private void MoveRingToBacklog()
    {
        AssertConsumer();
        while (true)
        {
            ref IntakeSlot<TJob> slot = ref _ring[_cursor.RingHead & _mask];
            if (Volatile.Read(ref slot.Sequence) != _cursor.RingHead + 1)
            {
                break;
            }

            if (slot.State is IDroppableState { IsDropped: true } dropped)
            {
                Discard(dropped);
                CountLeft();
            }
            else
            {
                _backlog.Enqueue(new QueuedJob<TJob> { Position = _cursor.RingHead, Job = slot.Job, State = slot.State, Stamp = slot.Stamp, Weight = slot.Weight });
            }

            FreeRingHead(ref slot);
        }

        PublishOldest();
    }

    /// <summary>A position left the queue (the consumer is the only writer).</summary>
    private void CountLeft() => Volatile.Write(ref _cursor.Left, _cursor.Left + 1);

    private void FreeRingHead(ref IntakeSlot<TJob> slot)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TJob>())
        {
            slot.Job = default!;
        }

        slot.State = null;
        Volatile.Write(ref slot.Sequence, _cursor.RingHead + _ring.Length);
        _cursor.RingHead++;
    }

    private void PublishOldest() => Volatile.Write(ref _oldestQueued.Value, HeadPosition);

    [Conditional("DEBUG")]
    private void AssertConsumer() => Debug.Assert(Monitor.IsEntered(ConsumerLock), "The intake's consumer side is used without its lock.");
}
