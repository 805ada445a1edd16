namespace Tinybatch.Durable;

/// <summary>How far a journal commit pushes the written jobs before the adds it covers complete.</summary>
public enum JournalCommitMode
{
    /// <summary>
    /// The jobs are handed to the operating system (one <c>write</c> per commit). They survive the process being killed,
    /// not the machine losing power.
    /// </summary>
    Flush = 0,

    /// <summary>
    /// The jobs are written and the file is synced to the disk (<c>fsync</c>) before the adds complete. They survive a
    /// power loss as far as the disk honours the sync.
    /// </summary>
    Fsync = 1,
}
