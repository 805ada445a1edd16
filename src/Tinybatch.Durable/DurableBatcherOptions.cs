using System.Text.Json.Serialization.Metadata;

namespace Tinybatch.Durable;

/// <summary>
/// The settings of a <see cref="DurableBatcher{TJob}"/>: the batcher's settings of <see cref="BatcherOptions"/> (size,
/// delay, capacity, overflow policy and the rest), plus where and how the journal keeps the jobs.
/// </summary>
/// <typeparam name="TJob">The job type.</typeparam>
public sealed class DurableBatcherOptions<TJob> : BatcherOptions
{
    /// <summary>The default size at which the journal starts a new segment file: 64 MiB.</summary>
    public const long DefaultSegmentBytes = 64L * 1024 * 1024;

    /// <summary>Gets or sets the directory of the journal. It is created if missing; one batcher at a time may use it.</summary>
    /// <value>Required.</value>
    public string? Directory { get; set; }

    /// <summary>Gets or sets the source-generated JSON metadata of the job type, used when <see cref="Serializer"/> is not set.</summary>
    /// <value>The default is <see langword="null"/>; set this or <see cref="Serializer"/>.</value>
    public JsonTypeInfo<TJob>? JsonTypeInfo { get; set; }

    /// <summary>Gets or sets the serializer of the jobs; it overrides <see cref="JsonTypeInfo"/>.</summary>
    /// <value>The default is <see langword="null"/>: System.Text.Json with <see cref="JsonTypeInfo"/>.</value>
    public IJobSerializer<TJob>? Serializer { get; set; }

    /// <summary>Gets or sets how far a commit pushes the jobs before their adds complete.</summary>
    /// <value>The default is <see cref="JournalCommitMode.Fsync"/>.</value>
    public JournalCommitMode CommitMode { get; set; } = JournalCommitMode.Fsync;

    /// <summary>
    /// Gets or sets how long a commit waits, after the first add that needs it, for more adds to share it. Zero commits
    /// as soon as the previous commit ends, which already groups every add that arrived during it.
    /// </summary>
    /// <value>The default is <see cref="TimeSpan.Zero"/>.</value>
    public TimeSpan CommitInterval { get; set; }

    /// <summary>Gets or sets the size at which the journal starts a new segment file. Segments are deleted whole.</summary>
    /// <value>The default is <see cref="DefaultSegmentBytes"/>.</value>
    public long SegmentBytes { get; set; } = DefaultSegmentBytes;

    /// <summary>Gets or sets the retry policy; its <see cref="RetryPolicy.MaxAttempts"/> counts attempts of earlier runs too.</summary>
    /// <value>The default is <see langword="null"/>: up to 3 attempts in all.</value>
    public RetryPolicy? Retry { get; set; }

    /// <summary>
    /// Gets or sets a callback that receives every job that ended without success, as the core batcher's dead-letter
    /// callback does, with its sequence id. A job abandoned by a stop whose deadline expired
    /// (<see cref="DeadLetterReason.Stopped"/>) stays in the journal and is replayed on the next start.
    /// </summary>
    public Action<DeadLetter<DurableJob<TJob>>>? OnDeadLetter { get; set; }

    /// <summary>Gets or sets a callback that receives each problem the journal met: torn or corrupt data found on open, failed writes.</summary>
    public Action<JournalProblem>? OnJournalProblem { get; set; }

    /// <summary>Test hook: the file operations of the journal.</summary>
    internal Internal.JournalFileSystem? FileSystem { get; set; }

    /// <inheritdoc/>
    public override IReadOnlyList<string> Validate()
    {
        var errors = new List<string>(base.Validate());
        if (string.IsNullOrWhiteSpace(Directory))
        {
            errors.Add("Directory must name the journal's directory.");
        }

        if (Serializer is null && JsonTypeInfo is null)
        {
            errors.Add($"Set JsonTypeInfo (System.Text.Json source generation, for example MyContext.Default.{typeof(TJob).Name}) or Serializer, so jobs can be journalled.");
        }

        if (!Enum.IsDefined(CommitMode))
        {
            errors.Add($"CommitMode must be Flush or Fsync; it is {(int)CommitMode}.");
        }

        if (CommitInterval < TimeSpan.Zero || CommitInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"CommitInterval must be in [0, 1 minute]; it is {CommitInterval}.");
        }

        if (SegmentBytes < 4096)
        {
            errors.Add($"SegmentBytes must be at least 4096; it is {SegmentBytes}.");
        }

        return errors;
    }
}
