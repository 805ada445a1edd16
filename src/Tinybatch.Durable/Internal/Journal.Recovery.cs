using System.Buffers.Binary;

namespace Tinybatch.Durable.Internal;

/// <summary>Opening a journal: reading every segment, cutting off torn or corrupt tails, and finding unfinished jobs.</summary>
internal sealed partial class Journal
{
    /// <summary>Opens (or creates) the journal in the settings' directory and recovers what it holds.</summary>
    public static Journal Open(JournalSettings settings, JournalFileSystem? files = null)
    {
        var journal = new Journal(settings, files ?? JournalFileSystem.Default);
        journal.Recover();
        return journal;
    }

    private void Recover()
    {
        var found = new Dictionary<long, (JournalEntry Entry, byte[] Payload)>();
        long lsn = 0;
        long highWater = 1;
        var paths = _files.ListSegments(_settings.Directory);
        for (int i = 0; i < paths.Count; i++)
        {
            string path = paths[i];
            bool newest = i == paths.Count - 1;
            _nextSegmentIndex = Math.Max(_nextSegmentIndex, ParseIndex(path) + 1);
            byte[] data = _files.ReadAll(path);
            if (!RecordFormat.TryReadSegmentHeader(data, out long nextSequence))
            {
                // A segment created just before a kill may be shorter than its header; anything else is damage.
                var kind = newest && data.Length < RecordFormat.SegmentHeaderSize ? JournalProblemKind.TornTail : JournalProblemKind.UnreadableSegment;
                Discard(kind, path, 0, data.Length, $"The header of segment '{path}' is unreadable ({data.Length} bytes); the file was set aside.");
                _files.SetAside(path);
                continue;
            }

            highWater = Math.Max(highWater, nextSequence);
            var segment = new Segment(path, lsn);
            int offset = RecordFormat.SegmentHeaderSize;
            while (true)
            {
                var result = RecordFormat.TryReadRecord(data.AsSpan(offset), out var kind, out var body, out int recordLength);
                if (result == RecordFormat.ReadResult.End)
                {
                    break;
                }

                if (result != RecordFormat.ReadResult.Ok || !Apply(kind, body, lsn, recordLength, found, ref highWater))
                {
                    var problem = newest && result == RecordFormat.ReadResult.Torn ? JournalProblemKind.TornTail : JournalProblemKind.CorruptRecord;
                    long lost = data.Length - offset;
                    Discard(problem, path, offset, lost,
                        problem == JournalProblemKind.TornTail
                            ? $"Segment '{path}' ends in a partly written record at offset {offset}; {lost} bytes were cut off (the process stopped mid-write; the adds they held had not completed)."
                            : $"Segment '{path}' has a corrupt record at offset {offset}; it and the {lost} bytes after it were cut off and are not replayed.");
                    _files.Truncate(path, offset);
                    break;
                }

                offset += recordLength;
                lsn += recordLength;
            }

            segment.EndLsn = lsn;
            _segments.Add(segment);
        }

        var live = found.Values.OrderBy(f => f.Entry.SequenceId).ToList();
        foreach (var (entry, _) in live.OrderBy(f => f.Entry.Lsn))
        {
            _live.Add(entry.SequenceId, entry);
            _order.Enqueue(entry);
            _liveBytes += entry.Size;
        }

        _appendedLsn = _committedLsn = lsn;
        _lastSequence = highWater - 1;
        _counts.Recovered = live.Count;
        Recovered = live.Select(f => new RecoveredJob(f.Entry.SequenceId, f.Entry.Attempts, f.Payload)).ToArray();

        // Start a fresh segment: never append after a tail that was cut, and record the high-water mark before any
        // older segment can be deleted.
        OpenSegment(lsn);
    }

    private static bool Apply(RecordKind kind, ReadOnlySpan<byte> body, long lsn, int recordLength,
        Dictionary<long, (JournalEntry Entry, byte[] Payload)> found, ref long highWater)
    {
        switch (kind)
        {
            case RecordKind.Job when body.Length >= RecordFormat.JobBodyPrefix:
                long sequenceId = BinaryPrimitives.ReadInt64LittleEndian(body);
                int attempts = BinaryPrimitives.ReadInt32LittleEndian(body[8..]);
                // A later copy (relocated out of an old segment) replaces the first; attempts never go down.
                if (found.TryGetValue(sequenceId, out var earlier))
                {
                    attempts = Math.Max(attempts, earlier.Entry.Attempts);
                }

                found[sequenceId] = (new JournalEntry(sequenceId, lsn, recordLength, attempts), body[RecordFormat.JobBodyPrefix..].ToArray());
                highWater = Math.Max(highWater, sequenceId + 1);
                return true;
            case RecordKind.Attempts when body.Length >= 4:
                int pairs = BinaryPrimitives.ReadInt32LittleEndian(body);
                if (pairs < 0 || body.Length != 4 + ((long)pairs * 12))
                {
                    return false;
                }

                for (int i = 0; i < pairs; i++)
                {
                    var pair = body.Slice(4 + (i * 12), 12);
                    if (found.TryGetValue(BinaryPrimitives.ReadInt64LittleEndian(pair), out var job))
                    {
                        job.Entry.Attempts = Math.Max(job.Entry.Attempts, BinaryPrimitives.ReadInt32LittleEndian(pair[8..]));
                    }
                }

                return true;
            case RecordKind.Done when body.Length >= 4:
                int count = BinaryPrimitives.ReadInt32LittleEndian(body);
                if (count < 0 || body.Length != 4 + ((long)count * 8))
                {
                    return false;
                }

                for (int i = 0; i < count; i++)
                {
                    found.Remove(BinaryPrimitives.ReadInt64LittleEndian(body[(4 + (i * 8))..]));
                }

                return true;
            default:
                return false;
        }
    }

    private void Discard(JournalProblemKind kind, string path, long offset, long bytes, string message)
    {
        _counts.Corruptions++;
        _counts.BytesDiscarded += bytes;
        Report(new JournalProblem(kind, path, offset, bytes, message));
    }

    /// <summary>Counts and reports a recovered job the serializer could not read, and releases it.</summary>
    public void ReportUndeserializable(long sequenceId, Exception exception)
    {
        lock (_lock)
        {
            _counts.Undeserializable++;
        }

        Report(new JournalProblem(JournalProblemKind.Undeserializable, _settings.Directory, 0, 0,
            $"Recovered job {sequenceId} could not be deserialized ({exception.Message}); it is not replayed.", exception));
        Release([sequenceId]);
    }

    private static long ParseIndex(string path) =>
        long.TryParse(Path.GetFileNameWithoutExtension(path), out long index) ? index : 0;
}
