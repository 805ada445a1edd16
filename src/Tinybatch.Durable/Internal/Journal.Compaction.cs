using System.Buffers.Binary;

namespace Tinybatch.Durable.Internal;

/// <summary>
/// Keeping disk use bounded when an old job stays live (a long retry): segments are deleted oldest first, so one live
/// job would hold every segment after its own. When the files hold much more than the live jobs need, the live jobs of
/// the oldest segment are copied to the end of the journal (same sequence id, current attempt count), which frees that
/// segment for deletion at the next commit. Recovery keeps the later copy.
/// </summary>
internal sealed partial class Journal
{
    private void RelocateOldest()
    {
        Segment oldest;
        List<JournalEntry> movers;
        lock (_lock)
        {
            if (_segments.Count < 3 || ReferenceEquals(_segments[0], ActiveSegment))
            {
                return;
            }

            long disk = 0;
            foreach (var segment in _segments)
            {
                disk += segment.FileBytes;
            }

            if (disk <= (2 * _liveBytes) + (2 * _settings.SegmentBytes))
            {
                return;
            }

            oldest = _segments[0];
            movers = [];
            foreach (var entry in _order)
            {
                if (entry.Lsn >= oldest.EndLsn)
                {
                    break;
                }

                if (!entry.Released)
                {
                    movers.Add(entry);
                }
            }
        }

        if (movers.Count == 0)
        {
            return;
        }

        var copies = new List<(JournalEntry Entry, byte[] Record)>(movers.Count);
        try
        {
            foreach (var entry in movers)
            {
                byte[] record = _files.ReadRange(oldest.Path, RecordFormat.SegmentHeaderSize + (entry.Lsn - oldest.StartLsn), entry.Size);
                if (RecordFormat.TryReadRecord(record, out var kind, out _, out int length) != RecordFormat.ReadResult.Ok
                    || kind != RecordKind.Job || length != record.Length)
                {
                    // Unreadable now: leave the job where it is (its segment stays until the job is released).
                    return;
                }

                copies.Add((entry, record));
            }
        }
        catch (IOException)
        {
            return;
        }

        lock (_lock)
        {
            if (_stopping)
            {
                return;
            }

            foreach (var (entry, record) in copies)
            {
                if (entry.Released)
                {
                    continue;
                }

                // The copy carries the attempts recorded since, so recovery needs no earlier Attempts record for it.
                BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(RecordFormat.RecordHeaderSize + 8), entry.Attempts);
                RecordFormat.SealRecord(record);
                var moved = new JournalEntry(entry.SequenceId, _appendedLsn, entry.Size, entry.Attempts) { InHandler = entry.InHandler };
                entry.Released = true;
                _live[entry.SequenceId] = moved;
                _order.Enqueue(moved);
                _counts.Relocated++;
                AppendLocked(record);
            }
        }
    }
}
