using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Tinybatch.Durable.Internal;

namespace Tinybatch.Durable.Tests;

/// <summary>Builds durable batchers on a directory, with a recording handler and fake time for retry delays.</summary>
internal sealed class DurableHarness(string directory)
{
    public FakeTimeProvider Time { get; } = new();

    public ConcurrentQueue<DurableJob<TestJob>> Seen { get; } = new();

    public ConcurrentQueue<DeadLetter<DurableJob<TestJob>>> DeadLetters { get; } = new();

    public List<JournalProblem> Problems { get; } = [];

    public DurableBatcherOptions<TestJob> Options(int maxBatchSize = 10, JournalFileSystem? files = null) => new()
    {
        Directory = directory,
        JsonTypeInfo = TestJsonContext.Default.TestJob,
        MaxBatchSize = maxBatchSize,
        MaxBatchDelay = TimeSpan.Zero,
        TimeProvider = Time,
        Retry = new RetryPolicy { MaxAttempts = 3, Delay = TimeSpan.FromHours(1) },
        OnDeadLetter = DeadLetters.Enqueue,
        OnJournalProblem = p => { lock (Problems) { Problems.Add(p); } },
        FileSystem = files,
    };

    /// <summary>A handler that records every job it sees and then applies <paramref name="decide"/> (default: success).</summary>
    public Func<DurableBatch<TestJob>, CancellationToken, ValueTask> Recording(Func<DurableBatch<TestJob>, int, ValueTask>? decide = null) =>
        async (batch, _) =>
        {
            for (int i = 0; i < batch.Count; i++)
            {
                Seen.Enqueue(batch[i]);
                if (decide is not null)
                {
                    await decide(batch, i);
                }
            }
        };

    public static TestJob Job(int n) => new(n, $"job {n}");

    /// <summary>Waits in real time (bounded) until <paramref name="condition"/> holds.</summary>
    public static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + HangGuard.Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition never held");
            await Task.Delay(1);
        }
    }
}
