namespace Tinybatch.Durable.Internal;

/// <summary>
/// One segment file. Log sequence numbers (LSNs) count record bytes across all segments, headers excluded, so a
/// record keeps its LSN whichever segment it lands in.
/// </summary>
internal sealed class Segment(string path, long startLsn)
{
    public string Path { get; } = path;

    /// <summary>Gets the LSN of the segment's first record.</summary>
    public long StartLsn { get; } = startLsn;

    /// <summary>Gets or sets the LSN just past the segment's last durable record.</summary>
    public long EndLsn { get; set; } = startLsn;

    /// <summary>Gets the size of the file: header plus records.</summary>
    public long FileBytes => RecordFormat.SegmentHeaderSize + (EndLsn - StartLsn);
}
