using System.Buffers.Binary;
using System.IO.Hashing;

namespace Tinybatch.Durable.Internal;

/// <summary>
/// The on-disk layout. A segment file starts with a header (magic, version, the lowest sequence id not yet handed
/// out when the segment was created, and a CRC of those), then holds records: a 4-byte body length, a CRC-32 of the
/// kind and body, a 1-byte kind, then the body. Integers are little-endian. A record whose length runs past the end of
/// the file, or whose CRC does not match, ends what recovery reads of that segment.
/// </summary>
internal static class RecordFormat
{
    public const uint Magic = 0x4A425454; // "TTBJ"
    public const uint Version = 1;
    public const int SegmentHeaderSize = 24;
    public const int RecordHeaderSize = 9;
    public const int JobBodyPrefix = 12;

    /// <summary>The largest record body accepted, so a corrupt length field is never trusted for a huge read.</summary>
    public const int MaxBodyBytes = 256 * 1024 * 1024;

    public static void WriteSegmentHeader(Span<byte> destination, long nextSequence)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Version);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], nextSequence);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], Crc32.HashToUInt32(destination[..16]));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], 0);
    }

    public static bool TryReadSegmentHeader(ReadOnlySpan<byte> source, out long nextSequence)
    {
        nextSequence = 0;
        if (source.Length < SegmentHeaderSize
            || BinaryPrimitives.ReadUInt32LittleEndian(source) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(source[4..]) != Version
            || BinaryPrimitives.ReadUInt32LittleEndian(source[16..]) != Crc32.HashToUInt32(source[..16]))
        {
            return false;
        }

        nextSequence = BinaryPrimitives.ReadInt64LittleEndian(source[8..]);
        return true;
    }

    /// <summary>Fills in the header of a record whose kind byte and body are already in place after it.</summary>
    /// <param name="record">The whole record: header space, kind, body.</param>
    public static void SealRecord(Span<byte> record)
    {
        int bodyLength = record.Length - RecordHeaderSize;
        BinaryPrimitives.WriteInt32LittleEndian(record, bodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32.HashToUInt32(record[8..]));
    }

    /// <summary>Reads the record at the start of <paramref name="source"/>.</summary>
    /// <returns>
    /// <see cref="ReadResult.Ok"/> with the kind and body; <see cref="ReadResult.End"/> at the end of the data;
    /// <see cref="ReadResult.Torn"/> when the record runs past the end; <see cref="ReadResult.Corrupt"/> when its length
    /// is impossible or its CRC does not match.
    /// </returns>
    public static ReadResult TryReadRecord(ReadOnlySpan<byte> source, out RecordKind kind, out ReadOnlySpan<byte> body, out int recordLength)
    {
        kind = default;
        body = default;
        recordLength = 0;
        if (source.IsEmpty)
        {
            return ReadResult.End;
        }

        if (source.Length < RecordHeaderSize)
        {
            return ReadResult.Torn;
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(source);
        if (length < 0 || length > MaxBodyBytes)
        {
            return ReadResult.Corrupt;
        }

        if (source.Length - RecordHeaderSize < length)
        {
            return ReadResult.Torn;
        }

        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(source[4..]);
        ReadOnlySpan<byte> checkedPart = source.Slice(8, length + 1);
        if (Crc32.HashToUInt32(checkedPart) != crc)
        {
            return ReadResult.Corrupt;
        }

        kind = (RecordKind)source[8];
        body = source.Slice(RecordHeaderSize, length);
        recordLength = RecordHeaderSize + length;
        return ReadResult.Ok;
    }

    internal enum ReadResult
    {
        Ok,
        End,
        Torn,
        Corrupt,
    }
}
