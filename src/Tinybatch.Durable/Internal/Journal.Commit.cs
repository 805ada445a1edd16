namespace Tinybatch.Durable.Internal;

/// <summary>The commit loop: one write (and one sync) per commit for everything appended since the last one.</summary>
internal sealed partial class Journal
{
    private readonly SemaphoreSlim _signal = new(0);
    private readonly List<(long From, long To, Exception Error)> _failedRanges = [];
    private int _signalled;
    private bool _stopping;
    private Stream? _active;
    private Task _loop = Task.CompletedTask;

    private void Signal()
    {
        if (Interlocked.Exchange(ref _signalled, 1) == 0)
        {
            _signal.Release();
        }
    }

    /// <summary>Starts the commit loop.</summary>
    public void Start()
    {
        using (ExecutionContext.SuppressFlow())
        {
            _loop = Task.Run(RunAsync);
        }
    }

    /// <summary>Commits what is appended, stops the loop and closes the files. Appends after this are refused.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
        }

        Signal();
        await _loop.ConfigureAwait(false);
        _active?.Dispose();
        _active = null;
    }

    /// <summary>Stops like a killed process: what is not committed is dropped, and nothing is written any more.</summary>
    internal async ValueTask CrashAsync()
    {
        lock (_lock)
        {
            _stopping = true;
            _pendingLength = 0;
        }

        Signal();
        await _loop.ConfigureAwait(false);
        _active?.Dispose();
        _active = null;
    }

    private async Task RunAsync()
    {
        while (true)
        {
            await _signal.WaitAsync().ConfigureAwait(false);
            if (_settings.CommitInterval > TimeSpan.Zero && !Volatile.Read(ref _stopping))
            {
                // Gather more adds into this commit: fewer syncs, at the cost of this much latency per add.
                await Task.Delay(_settings.CommitInterval, _settings.TimeProvider).ConfigureAwait(false);
            }

            Volatile.Write(ref _signalled, 0);
            bool stop = CommitOnce();
            if (stop)
            {
                return;
            }
        }
    }

    /// <summary>Writes one commit. Returns true when the journal is stopping and everything is written.</summary>
    internal bool CommitOnce()
    {
        byte[] chunk;
        int length;
        long start;
        long target;
        TaskCompletionSource commit;
        bool stopping;
        lock (_lock)
        {
            chunk = _pending;
            length = _pendingLength;
            _pending = _spare;
            _pendingLength = 0;
            start = _appendedLsn - length;
            target = _appendedLsn;
            commit = _nextCommit;
            _nextCommit = NewCommit();
            _inProgress = commit;
            _inProgressTarget = target;
            stopping = _stopping;
        }

        Exception? failure = length == 0 ? null : Write(chunk.AsSpan(0, length), start, target);
        lock (_lock)
        {
            _spare = chunk;
            _inProgress = null;
            if (failure is null)
            {
                _committedLsn = target;
                if (length > 0)
                {
                    _counts.Commits++;
                    _counts.CommittedBytes += length;
                }
            }
            else
            {
                _counts.WriteFailures++;
                _failedRanges.Add((start, target, failure));
                if (_failedRanges.Count > 64)
                {
                    _failedRanges.RemoveAt(0);
                }

                // Later commits start a new segment at the next LSN, so nothing written later depends on the lost bytes.
                _committedLsn = target;
            }
        }

        if (failure is null)
        {
            commit.TrySetResult();
        }
        else
        {
            commit.TrySetException(failure);

            // Every add this commit covered sees the failure through its own await; a commit no add waits on (a flush,
            // or adds already given up) must not surface later as an unobserved task exception.
            _ = commit.Task.Exception;
        }

        if (failure is null)
        {
            Truncate();
        }

        return stopping;
    }

    private JournalWriteException? Write(ReadOnlySpan<byte> chunk, long start, long target)
    {
        Segment? segment = null;
        long goodLength = 0;
        try
        {
            if (_active is null)
            {
                OpenSegment(start);
            }

            segment = _segments[^1];
            goodLength = _active!.Length;
            _active.Write(chunk);
            _files.Flush(_active, _settings.CommitMode == JournalCommitMode.Fsync);
            lock (_lock)
            {
                segment.EndLsn = target;
            }

            if (segment.FileBytes >= _settings.SegmentBytes)
            {
                CloseActive();
            }

            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            // Cut the file back so no partly written record is followed by good ones; the next commit opens a new segment.
            try
            {
                _active?.SetLength(goodLength);
            }
            catch (Exception cutError) when (cutError is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                // Recovery will find the partial record at the end of this segment and cut it off there.
            }

            CloseActive();
            var error = new JournalWriteException(
                $"The journal in '{_settings.Directory}' could not write a commit of {chunk.Length} bytes ({ex.Message}). "
                + "The adds it covered failed and their jobs were not accepted; free disk space or raise the journal's limits.",
                ex);
            Report(new JournalProblem(JournalProblemKind.WriteFailed, segment?.Path ?? _settings.Directory, goodLength, chunk.Length, error.Message, ex));
            return error;
        }
    }

    private void CloseActive()
    {
        try
        {
            _active?.Dispose();
        }
        catch (IOException)
        {
            // Closing after a failed write may fail again; the file's content is already what it will be.
        }

        _active = null;
    }

    /// <summary>Creates a new segment whose first record will have <paramref name="startLsn"/>.</summary>
    private void OpenSegment(long startLsn)
    {
        string path = Path.Combine(_settings.Directory, $"{_nextSegmentIndex:D12}{JournalFileSystem.SegmentExtension}");
        Span<byte> header = stackalloc byte[RecordFormat.SegmentHeaderSize];

        // No sequence id below this one may be handed out again, even once every older segment is deleted.
        RecordFormat.WriteSegmentHeader(header, Volatile.Read(ref _lastSequence) + 1);
        var stream = _files.Create(path);
        try
        {
            stream.Write(header);
            _files.Flush(stream, _settings.CommitMode == JournalCommitMode.Fsync);
        }
        catch
        {
            stream.Dispose();
            _files.Delete(path);
            throw;
        }

        _nextSegmentIndex++;
        _active = stream;
        lock (_lock)
        {
            _segments.Add(new Segment(path, startLsn));
        }
    }

    /// <summary>Deletes the oldest segments once every job in them has its final outcome.</summary>
    private void Truncate()
    {
        List<Segment>? doomed = null;
        lock (_lock)
        {
            while (_order.Count > 0 && _order.Peek().Released)
            {
                _order.Dequeue();
            }

            long firstLive = _order.Count > 0 ? _order.Peek().Lsn : _appendedLsn;

            // Never the newest segment: its header keeps the sequence high-water mark.
            while (_segments.Count > 1 && _segments[0].EndLsn <= firstLive && !ReferenceEquals(_segments[0], ActiveSegment))
            {
                (doomed ??= []).Add(_segments[0]);
                _segments.RemoveAt(0);
            }
        }

        if (doomed is null)
        {
            RelocateOldest();
            return;
        }

        foreach (var segment in doomed)
        {
            try
            {
                _files.Delete(segment.Path);
                lock (_lock)
                {
                    _counts.SegmentsDeleted++;
                }
            }
            catch (IOException)
            {
                // Deleting is an optimisation: a segment left behind holds only finished jobs and is deleted on the next open.
            }
        }
    }

    private Segment? ActiveSegment => _active is null ? null : _segments[^1];
}
