using System.Text;
using Tinybatch.Durable.Internal;

namespace Tinybatch.Durable.Tests;

/// <summary>Opens journals on a directory and appends text jobs to them.</summary>
internal static class JournalHarness
{
    public static Journal Open(string directory, List<JournalProblem>? problems = null, JournalFileSystem? files = null,
        long segmentBytes = 1024 * 1024, JournalCommitMode mode = JournalCommitMode.Fsync)
    {
        var settings = new JournalSettings(directory, mode, TimeSpan.Zero, segmentBytes, TimeProvider.System,
            problems is null ? null : p => { lock (problems) { problems.Add(p); } });
        var journal = Journal.Open(settings, files);
        journal.Start();
        return journal;
    }

    /// <summary>Appends a job whose payload is <paramref name="text"/> in UTF-8; returns its sequence id and commit ticket.</summary>
    public static (long SequenceId, long Ticket) Append(Journal journal, string text, int attempts = 0)
    {
        long sequenceId = journal.NextSequenceId();
        var buffer = RecordBuffer.ForCurrentThread;
        Journal.BuildJobRecord(buffer, sequenceId, attempts, text, static (t, b) => Encoding.UTF8.GetBytes(t, b));
        long ticket = journal.AppendJob(sequenceId, attempts, buffer.WrittenSpan);
        return (sequenceId, ticket);
    }

    public static async Task<long> AppendCommittedAsync(Journal journal, string text, int attempts = 0)
    {
        var (sequenceId, ticket) = Append(journal, text, attempts);
        await journal.WaitForCommitAsync(ticket);
        return sequenceId;
    }

    public static string Text(RecoveredJob job) => Encoding.UTF8.GetString(job.Payload);
}
