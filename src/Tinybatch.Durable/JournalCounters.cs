namespace Tinybatch.Durable;

/// <summary>A snapshot of what the journal has done since it was opened.</summary>
public readonly record struct JournalCounters
{
    /// <summary>Gets how many jobs were written to the journal.</summary>
    public long Appended { get; init; }

    /// <summary>Gets how many jobs reached their final outcome and were released from the journal.</summary>
    public long Released { get; init; }

    /// <summary>Gets how many commits (one write, and one sync in <see cref="JournalCommitMode.Fsync"/>) were made.</summary>
    public long Commits { get; init; }

    /// <summary>Gets how many bytes the commits wrote.</summary>
    public long CommittedBytes { get; init; }

    /// <summary>Gets how many commits failed to write (the adds they covered failed).</summary>
    public long WriteFailures { get; init; }

    /// <summary>Gets how many unfinished jobs recovery found and replays.</summary>
    public long Recovered { get; init; }

    /// <summary>Gets how many torn tails, corrupt records and unreadable segments recovery cut off.</summary>
    public long CorruptionsDetected { get; init; }

    /// <summary>Gets how many bytes recovery cut off or set aside.</summary>
    public long BytesDiscarded { get; init; }

    /// <summary>Gets how many recovered jobs could not be deserialized.</summary>
    public long Undeserializable { get; init; }

    /// <summary>Gets how many segment files were deleted because every job in them had its outcome.</summary>
    public long SegmentsDeleted { get; init; }

    /// <summary>Gets how many live jobs were copied out of an old segment so it could be deleted (disk use stays bounded).</summary>
    public long Relocated { get; init; }

    /// <summary>Gets how many jobs are in the journal without a final outcome.</summary>
    public long LiveJobs { get; init; }

    /// <summary>Gets the bytes of the records of those jobs.</summary>
    public long LiveBytes { get; init; }

    /// <summary>Gets the bytes of the journal's segment files on disk.</summary>
    public long DiskBytes { get; init; }
}
