namespace Tinybatch.EventStream;

/// <summary>SQLite's synchronous setting in WAL mode: when a commit reaches the disk.</summary>
internal enum SqliteSynchronous
{
    /// <summary>Commits are written to the WAL and fsynced at checkpoints: safe against a process crash.</summary>
    Normal,

    /// <summary>Every commit is fsynced: safe against a power loss too, at one fsync per transaction.</summary>
    Full,
}
