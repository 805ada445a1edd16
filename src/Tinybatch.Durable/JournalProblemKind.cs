namespace Tinybatch.Durable;

/// <summary>What went wrong in the journal.</summary>
public enum JournalProblemKind
{
    /// <summary>The newest segment ends in a partly written record (the process was killed mid-write). It was cut off.</summary>
    TornTail = 0,

    /// <summary>A record failed its checksum or has an impossible length. It and the rest of its segment were cut off.</summary>
    CorruptRecord = 1,

    /// <summary>A segment's header could not be read. The file was set aside with the suffix <c>.corrupt</c>.</summary>
    UnreadableSegment = 2,

    /// <summary>A recovered job could not be deserialized. It is not replayed and is removed from the journal.</summary>
    Undeserializable = 3,

    /// <summary>A commit could not be written (for example, the disk is full). The adds it covered failed.</summary>
    WriteFailed = 4,
}
