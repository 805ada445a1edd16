using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Tinybatch.Partitioning;
using Tinybatch.ReliabilityTests.Support;
using Xunit.Abstractions;

namespace Tinybatch.ReliabilityTests.Partitions;

/// <summary>
/// The partitioned batcher keeps exactly-once while partitions retire under load: a job's own outcome (whatever exception
/// its handler failed it with, the library's own types included) is never taken for a refused add and re-sent, each
/// caller gets its own job's outcome, the counters never go negative, and once drained
/// Accepted == Succeeded + Failed + Canceled + Dropped. Retirement is driven by the internal hook SweepNow on a fake clock
/// moved past the idle timeout, from a thread racing the producers.
/// </summary>
[Collection(ReliabilitySuite.Name)]
public sealed class PartitionRetirementTests(ITestOutputHelper output)
{
    private const int Keys = 5;

    /// <summary>Every exception type the library throws itself; outcome kind 0 is success.</summary>
    private static readonly Func<string, Exception>[] LibraryFailures =
    [
        m => new BatcherStoppedException(m),
        m => new BatcherFullException(m),
        m => new JobDroppedException(m),
        m => new JobTooHeavyException(m),
        m => new TooManyPartitionsException(m),
        m => new BatchResultCountException(m),
        m => new TimeoutException(m),
    ];

    [Fact]
    public async Task AddAndWait_PartitionsRetiringWhileHandlersFailWithEveryLibraryException_EachJobOnceWithItsOwnOutcome()
    {
        const int Jobs = 20_000;
        using var scene = new Scene(job => job % (LibraryFailures.Length + 1));
        await scene.RunAsync(Jobs, producers: 4, window: 32);

        output.WriteLine(scene.Summary);
        SuiteFigures.Record($"partitions: jobs={Jobs} retired={scene.Batcher.PartitionsRetired} created={scene.Batcher.PartitionsCreated} duplicates={scene.Duplicates.Count}");
        scene.AssertExactlyOnce();
    }

    /// <summary>
    /// The reported duplicate, focused: a handler fails its job with BatcherStoppedException while the job's partition
    /// retires. Today the partitioned batcher takes that outcome for its own refused add, sends the job to a fresh
    /// partition (processed twice, its caller told "success") and counts Rejected −1. Repeated, since the sweep must fall
    /// between the batch's end and the caller's continuation.
    /// </summary>
    [Fact]
    public async Task AddAndWait_HandlerFailsJobWithBatcherStoppedWhileItsPartitionRetires_NotResentAndRejectedNeverNegative()
    {
        using var scene = new Scene(_ => 1);
        await scene.RunAsync(jobs: 3_000, producers: 2, window: 1);

        output.WriteLine(scene.Summary);
        scene.AssertExactlyOnce();
    }

    /// <summary>One partitioned batcher, its recording handler, producers and a sweeper racing them.</summary>
    private sealed class Scene : IDisposable
    {
        private readonly FakeTimeProvider _time = new();
        private readonly Func<int, int> _kindOf;
        private readonly ConcurrentDictionary<int, int> _processed = new();
        private readonly ConcurrentDictionary<int, string> _wrongOutcomes = new();
        private readonly ConcurrentQueue<BatcherCounters> _negative = new();
        private readonly int _mark = Contained.Mark();
        private int _sweeps;

        public Scene(Func<int, int> kindOf)
        {
            _kindOf = kindOf;
            Batcher = new PartitionedBatcher<int, int, int>(
                job => job % Keys,
                (_, batch, _) =>
                {
                    for (int i = 0; i < batch.Count; i++)
                    {
                        int job = batch[i];
                        _processed.AddOrUpdate(job, 1, static (_, n) => n + 1);
                        int kind = _kindOf(job);
                        if (kind == 0)
                        {
                            batch.SetResult(i, job * 10);
                        }
                        else
                        {
                            batch.Fail(i, LibraryFailures[kind - 1](Marker(job)));
                        }
                    }

                    return ValueTask.CompletedTask;
                },
                new PartitionedBatcherOptions<int, int, int>
                {
                    IdleTimeout = TimeSpan.FromSeconds(1),
                    Partition = new BatcherOptions<int, int>
                    {
                        MaxBatchSize = 4,
                        MaxBatchDelay = TimeSpan.Zero,
                        Capacity = 64,
                        TimeProvider = _time,
                    },
                });
            Batcher.Start();
        }

        public PartitionedBatcher<int, int, int> Batcher { get; }

        public IReadOnlyList<int> Duplicates => [.. _processed.Where(p => p.Value > 1).Select(p => p.Key).Order()];

        public string Summary =>
            $"processed {_processed.Count}, duplicates {Duplicates.Count} (first: {string.Join(',', Duplicates.Take(5))}), "
            + $"wrong outcomes {_wrongOutcomes.Count} (first: {string.Join(" | ", _wrongOutcomes.Take(3).Select(w => $"{w.Key}: {w.Value}"))}), "
            + $"negative counters seen {_negative.Count} (first: {_negative.FirstOrDefault()}), sweeps {Volatile.Read(ref _sweeps)}, "
            + $"retired {Batcher.PartitionsRetired}, final {Batcher.Counters}";

        private static string Marker(int job) => $"the handler failed job {job}";

        public async Task RunAsync(int jobs, int producers, int window)
        {
            using var stop = new CancellationTokenSource();
            Task sweeper = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    _time.Advance(TimeSpan.FromSeconds(2));
                    Batcher.SweepNow();
                    Interlocked.Increment(ref _sweeps);
                    Sample();
                    await Task.Yield();
                }
            });

            int next = -1;
            Task[] running = [.. Enumerable.Range(0, producers).Select(_ => Task.Run(async () =>
            {
                while (true)
                {
                    int first = Interlocked.Add(ref next, window) - window + 1;
                    if (first >= jobs)
                    {
                        return;
                    }

                    int[] batch = [.. Enumerable.Range(first, Math.Min(window, jobs - first))];
                    await Task.WhenAll(batch.Select(CheckOneAsync));
                }
            }))];
            await Task.WhenAll(running).Within(_mark, "the producers");
            await stop.CancelAsync();
            await sweeper.Within(_mark, "the sweeper");
            await Batcher.StopAsync().Within(_mark, "the stop");
            Sample();
        }

        /// <summary>Adds one job and checks its caller got exactly its own outcome.</summary>
        private async Task CheckOneAsync(int job)
        {
            int kind = _kindOf(job);
            try
            {
                int result = await Batcher.AddAndWaitAsync(job);
                if (kind != 0 || result != job * 10)
                {
                    _wrongOutcomes[job] = $"success {result}, expected kind {kind}";
                }
            }
            catch (Exception ex)
            {
                Type? expected = kind == 0 ? null : LibraryFailures[kind - 1]("").GetType();
                if (ex.GetType() != expected || ex.Message != Marker(job))
                {
                    _wrongOutcomes[job] = $"{ex.GetType().Name}: {ex.Message}, expected {expected?.Name ?? "success"}";
                }
            }
        }

        private void Sample()
        {
            BatcherCounters c = Batcher.Counters;
            if (c.Accepted < 0 || c.Succeeded < 0 || c.Failed < 0 || c.Canceled < 0 || c.Dropped < 0 || c.Rejected < 0
                || c.Retried < 0 || c.Pending < 0 || c.InFlight < 0 || c.Batches < 0)
            {
                _negative.Enqueue(c);
            }
        }

        public void AssertExactlyOnce()
        {
            Assert.True(Duplicates.Count == 0, "jobs processed more than once: " + Summary);
            Assert.True(_wrongOutcomes.IsEmpty, "callers that did not get their own job's outcome: " + Summary);
            Assert.True(_negative.IsEmpty, "a counter went negative: " + Summary);
            BatcherCounters c = Batcher.Counters;
            Assert.True(c.Accepted == c.Succeeded + c.Failed + c.Canceled + c.Dropped, "the counters do not add up: " + Summary);
            Assert.True(c.Accepted == _processed.Count, "accepted is not the number of jobs processed: " + Summary);
            Contained.ThrowIfEscaped(_mark, "the scenario");
        }

        public void Dispose() => Contained.Observe(Batcher.StopAsync());
    }
}
