using System.Buffers.Binary;
using System.Diagnostics;

namespace Tinybatch.Durable.Internal;

/// <summary>
/// An append-only journal of segment files with group commit. Producers append records to an in-memory buffer under
/// one short lock and wait for the commit that covers them; one loop writes everything appended since the last commit
/// with one write (and one fsync), so a commit covers as many adds as arrived meanwhile. Segments are deleted once
/// every job in them has its final outcome, oldest first.
/// </summary>
internal sealed partial class Journal : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly JournalSettings _settings;
    private readonly JournalFileSystem _files;
    private readonly Dictionary<long, JournalEntry> _live = [];
    private readonly Queue<JournalEntry> _order = new();
    private readonly List<Segment> _segments = [];
    private byte[] _pending = new byte[64 * 1024];
    private byte[] _spare = new byte[64 * 1024];
    private int _pendingLength;
    private long _appendedLsn;
    private long _committedLsn;
    private long _lastSequence;
    private long _liveBytes;
    private long _nextSegmentIndex;
    private TaskCompletionSource _nextCommit = NewCommit();
    private TaskCompletionSource? _inProgress;
    private TaskCompletionSource? _spaceFreed;
    private long _inProgressTarget;
    private Counts _counts;

    private Journal(JournalSettings settings, JournalFileSystem files)
    {
        _settings = settings;
        _files = files;
    }

    /// <summary>Gets the jobs recovery found without a final outcome, in sequence order.</summary>
    public IReadOnlyList<RecoveredJob> Recovered { get; private set; } = [];

    public JournalCounters Counters
    {
        get
        {
            lock (_lock)
            {
                long disk = 0;
                foreach (var segment in _segments)
                {
                    disk += segment.FileBytes;
                }

                return new JournalCounters
                {
                    Appended = _counts.Appended,
                    Released = _counts.Released,
                    Commits = _counts.Commits,
                    CommittedBytes = _counts.CommittedBytes,
                    WriteFailures = _counts.WriteFailures,
                    Recovered = _counts.Recovered,
                    CorruptionsDetected = _counts.Corruptions,
                    BytesDiscarded = _counts.BytesDiscarded,
                    Undeserializable = _counts.Undeserializable,
                    SegmentsDeleted = _counts.SegmentsDeleted,
                    Relocated = _counts.Relocated,
                    LiveJobs = _live.Count,
                    LiveBytes = _liveBytes,
                    DiskBytes = disk,
                };
            }
        }
    }

    /// <summary>Hands out the next sequence id. Ids are never reused, across restarts included.</summary>
    public long NextSequenceId() => Interlocked.Increment(ref _lastSequence);

    /// <summary>Appends a job record built by <see cref="BuildJobRecord"/>; returns the ticket to wait for its commit.</summary>
    public long AppendJob(long sequenceId, int attempts, ReadOnlySpan<byte> record)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            var entry = new JournalEntry(sequenceId, _appendedLsn, record.Length, attempts);
            _live.Add(sequenceId, entry);
            _order.Enqueue(entry);
            _liveBytes += record.Length;
            _counts.Appended++;
            return AppendLocked(record);
        }
    }

    /// <summary>
    /// Appends a job record if the live bytes stay within <paramref name="maxLiveBytes"/>; returns the commit ticket, or
    /// -1 when there is no room (nothing is appended then).
    /// </summary>
    public long TryAppendJob(long sequenceId, int attempts, ReadOnlySpan<byte> record, long maxLiveBytes)
    {
        lock (_lock)
        {
            if (_liveBytes + record.Length > maxLiveBytes)
            {
                return -1;
            }

            return AppendJob(sequenceId, attempts, record);
        }
    }

    /// <summary>A task that completes the next time a release frees bytes.</summary>
    public Task SpaceFreed
    {
        get
        {
            lock (_lock)
            {
                return (_spaceFreed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }
    }

    /// <summary>Releases the oldest live job no handler has now; returns its sequence id, or -1 if every live job is in a handler.</summary>
    public long ReleaseOldestWaiting()
    {
        long sequenceId = -1;
        lock (_lock)
        {
            foreach (var entry in _order)
            {
                if (!entry.Released && !entry.InHandler)
                {
                    sequenceId = entry.SequenceId;
                    break;
                }
            }
        }

        if (sequenceId >= 0)
        {
            Release([sequenceId]);
        }

        return sequenceId;
    }

    /// <summary>Marks jobs as no longer in a handler (they wait for a retry).</summary>
    public void LeftHandler(ReadOnlySpan<long> sequenceIds)
    {
        lock (_lock)
        {
            foreach (long sequenceId in sequenceIds)
            {
                if (_live.TryGetValue(sequenceId, out var entry))
                {
                    entry.InHandler = false;
                }
            }
        }
    }

    /// <summary>Records that jobs were handed to a handler, with their attempt numbers over every run.</summary>
    public long AppendAttempts(ReadOnlySpan<(long SequenceId, int Attempt)> attempts)
    {
        int length = RecordFormat.RecordHeaderSize + 4 + (attempts.Length * 12);
        byte[] record = new byte[length];
        record[8] = (byte)RecordKind.Attempts;
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(RecordFormat.RecordHeaderSize), attempts.Length);
        int offset = RecordFormat.RecordHeaderSize + 4;
        foreach (var (sequenceId, attempt) in attempts)
        {
            BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(offset), sequenceId);
            BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(offset + 8), attempt);
            offset += 12;
        }

        RecordFormat.SealRecord(record);
        lock (_lock)
        {
            if (_stopping)
            {
                return _appendedLsn;
            }

            foreach (var (sequenceId, attempt) in attempts)
            {
                if (_live.TryGetValue(sequenceId, out var entry))
                {
                    entry.Attempts = attempt;
                    entry.InHandler = true;
                }
            }

            return AppendLocked(record);
        }
    }

    /// <summary>Releases jobs that reached their final outcome: they will never be replayed.</summary>
    public void Release(ReadOnlySpan<long> sequenceIds)
    {
        if (sequenceIds.IsEmpty)
        {
            return;
        }

        int length = RecordFormat.RecordHeaderSize + 4 + (sequenceIds.Length * 8);
        byte[] record = new byte[length];
        record[8] = (byte)RecordKind.Done;
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(RecordFormat.RecordHeaderSize), sequenceIds.Length);
        for (int i = 0; i < sequenceIds.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(RecordFormat.RecordHeaderSize + 4 + (i * 8)), sequenceIds[i]);
        }

        RecordFormat.SealRecord(record);
        TaskCompletionSource? spaceFreed = null;
        lock (_lock)
        {
            foreach (long sequenceId in sequenceIds)
            {
                if (_live.Remove(sequenceId, out var entry))
                {
                    entry.Released = true;
                    _liveBytes -= entry.Size;
                    _counts.Released++;
                    spaceFreed = _spaceFreed;
                }
            }

            if (spaceFreed is not null)
            {
                _spaceFreed = null;
            }

            if (!_stopping)
            {
                AppendLocked(record);
            }
        }

        spaceFreed?.TrySetResult();
    }

    /// <summary>Builds a job record: header, kind, sequence id, attempts, then the payload written by <paramref name="writePayload"/>.</summary>
    public static void BuildJobRecord<TState>(RecordBuffer buffer, long sequenceId, int attempts, TState state, Action<TState, RecordBuffer> writePayload)
    {
        buffer.Reset();
        Span<byte> prefix = buffer.GetSpan(RecordFormat.RecordHeaderSize + RecordFormat.JobBodyPrefix);
        prefix[8] = (byte)RecordKind.Job;
        BinaryPrimitives.WriteInt64LittleEndian(prefix[RecordFormat.RecordHeaderSize..], sequenceId);
        BinaryPrimitives.WriteInt32LittleEndian(prefix[(RecordFormat.RecordHeaderSize + 8)..], attempts);
        buffer.Advance(RecordFormat.RecordHeaderSize + RecordFormat.JobBodyPrefix);
        writePayload(state, buffer);
        RecordFormat.SealRecord(buffer.WrittenSpanMutable);
    }

    private long AppendLocked(ReadOnlySpan<byte> record)
    {
        if (_pendingLength + record.Length > _pending.Length)
        {
            Array.Resize(ref _pending, Math.Max(_pending.Length * 2, _pendingLength + record.Length));
        }

        record.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength += record.Length;
        _appendedLsn += record.Length;
        Signal();
        return _appendedLsn;
    }

    /// <summary>Waits until the commit covering <paramref name="ticket"/> is written (and synced, in fsync mode).</summary>
    public ValueTask WaitForCommitAsync(long ticket)
    {
        Task task;
        lock (_lock)
        {
            foreach (var (from, to, error) in _failedRanges)
            {
                if (ticket > from && ticket <= to)
                {
                    return ValueTask.FromException(error);
                }
            }

            if (_committedLsn >= ticket)
            {
                return ValueTask.CompletedTask;
            }

            task = _inProgress is not null && ticket <= _inProgressTarget ? _inProgress.Task : _nextCommit.Task;
        }

        return task.IsCompletedSuccessfully ? WaitForCommitAsync(ticket) : WaitSlowAsync(task, ticket);
    }

    private async ValueTask WaitSlowAsync(Task task, long ticket)
    {
        await task.ConfigureAwait(false);
        await WaitForCommitAsync(ticket).ConfigureAwait(false);
    }

    private static TaskCompletionSource NewCommit() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Report(JournalProblem problem)
    {
        try
        {
            _settings.OnProblem?.Invoke(problem);
        }
        catch (Exception ex)
        {
            // A failing observer must not take the journal down; the problem is still counted.
            Debug.WriteLine($"Tinybatch.Durable: the journal problem callback threw: {ex}");
        }
    }

    private struct Counts
    {
        public long Appended;
        public long Released;
        public long Commits;
        public long CommittedBytes;
        public long WriteFailures;
        public long Recovered;
        public long Corruptions;
        public long BytesDiscarded;
        public long Undeserializable;
        public long SegmentsDeleted;
        public long Relocated;
    }
}
