namespace Tinybatch.Durable.Internal;

/// <summary>The journal's book-keeping for one job that has no final outcome yet.</summary>
internal sealed class JournalEntry(long sequenceId, long lsn, int size, int attempts)
{
    public long SequenceId { get; } = sequenceId;

    /// <summary>Gets the LSN of the job's record.</summary>
    public long Lsn { get; } = lsn;

    /// <summary>Gets the size of the job's record, header included.</summary>
    public int Size { get; } = size;

    /// <summary>Gets or sets how many handler calls have seen the job, over every run.</summary>
    public int Attempts { get; set; } = attempts;

    public bool Released { get; set; }

    /// <summary>Gets or sets whether a handler call has the job now (so overflow cannot drop it).</summary>
    public bool InHandler { get; set; }
}
