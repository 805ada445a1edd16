namespace Tinybatch.Durable.Internal;

/// <summary>What a journal record says.</summary>
internal enum RecordKind : byte
{
    /// <summary>A job was accepted: its sequence id, its attempts so far and its serialized form.</summary>
    Job = 1,

    /// <summary>Jobs were handed to a handler: pairs of sequence id and attempt number.</summary>
    Attempts = 2,

    /// <summary>Jobs reached their final outcome: their sequence ids. They are never replayed.</summary>
    Done = 3,
}
