namespace Tinybatch.Durable.Internal;

/// <summary>The journal's validated, immutable settings.</summary>
internal sealed record JournalSettings(
    string Directory,
    JournalCommitMode CommitMode,
    TimeSpan CommitInterval,
    long SegmentBytes,
    TimeProvider TimeProvider,
    Action<JournalProblem>? OnProblem);
