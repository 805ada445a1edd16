using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Tinybatch.Partitioning;

namespace Tinybatch.Sink.Tests;

public sealed class PartitionedBatcherTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ConcurrentQueue<(string Key, Ev[] Jobs, TimeSpan At)> _batches = new();

    private sealed record Ev(string Key, int Id, long Bytes = 1);

    [Fact]
    public async Task AddAsync_DifferentKeys_NeverShareABatch()
    {
        await using var batcher = Create(o => o.Partition.MaxBatchSize = 4);
        batcher.Start();
        for (int i = 0; i < 200; i++)
        {
            await batcher.AddAsync(new Ev("k" + (i % 7), i));
        }

        await batcher.FlushAsync().WaitAsync(Guard);

        Assert.Equal(200, _batches.Sum(b => b.Jobs.Length));
        Assert.All(_batches, b => Assert.All(b.Jobs, j => Assert.Equal(b.Key, j.Key)));
        Assert.Equal(7, batcher.PartitionCount);
    }

    [Fact]
    public async Task AddAsync_SizeAndWeightTriggers_ApplyPerPartition()
    {
        await using var batcher = Create(o =>
        {
            o.Partition.MaxBatchSize = 3;
            o.Partition.MaxBatchWeight = 100;
            o.Partition.Weigher = e => e.Bytes;
        });
        batcher.Start();

        // "a" fills by count, "b" by weight, "c" by neither: only the first two dispatch before the delay.
        for (int i = 0; i < 3; i++)
        {
            await batcher.AddAsync(new Ev("a", i));
        }

        await batcher.AddAsync(new Ev("b", 10, 60));
        await batcher.AddAsync(new Ev("b", 11, 40));
        await batcher.AddAsync(new Ev("c", 20));
        await batcher.AddAsync(new Ev("c", 21));
        await batcher.WhenIdleAsync().WaitAsync(Guard);

        Assert.Equal(["a", "b"], _batches.Select(b => b.Key).Order().ToArray());
        Assert.Equal(100, _batches.Single(b => b.Key == "b").Jobs.Sum(j => j.Bytes));

        _time.Advance(BatcherOptions.DefaultMaxBatchDelay);
        await batcher.WhenIdleAsync().WaitAsync(Guard);
        Assert.Equal([20, 21], _batches.Single(b => b.Key == "c").Jobs.Select(j => j.Id).ToArray());
    }

    [Fact]
    public async Task PartitionOptions_PerKeySettings_OverrideTheTemplate()
    {
        await using var batcher = Create(o =>
        {
            o.Partition.MaxBatchSize = 100;
            o.PartitionOptions = key => new BatcherOptions<Ev, int> { Name = "special-" + key, MaxBatchSize = key == "small" ? 2 : 100 };
        });
        batcher.Start();
        await batcher.AddAsync(new Ev("small", 1));
        await batcher.AddAsync(new Ev("small", 2));
        await batcher.AddAsync(new Ev("big", 3));
        await batcher.AddAsync(new Ev("big", 4));
        await batcher.WhenIdleAsync().WaitAsync(Guard);

        Assert.Equal("small", Assert.Single(_batches).Key);
        Assert.True(batcher.TryGetPartition("small", out Batcher<Ev, int>? small));
        Assert.Equal("special-small", small.Name);
    }

    [Fact]
    public async Task Timers_PartitionsCreatedAtDifferentTimes_FireAtDifferentTimes()
    {
        await using var batcher = Create(o => o.Partition.MaxBatchDelay = TimeSpan.FromSeconds(1));
        batcher.Start();
        await batcher.AddAsync(new Ev("a", 1));
        await batcher.WhenIdleAsync().WaitAsync(Guard);
        _time.Advance(TimeSpan.FromMilliseconds(300));
        await batcher.AddAsync(new Ev("b", 2));
        await batcher.WhenIdleAsync().WaitAsync(Guard);

        _time.Advance(TimeSpan.FromMilliseconds(700));
        await batcher.WhenIdleAsync().WaitAsync(Guard);
        Assert.Equal("a", Assert.Single(_batches).Key);

        _time.Advance(TimeSpan.FromMilliseconds(300));
        await batcher.WhenIdleAsync().WaitAsync(Guard);
        Assert.Equal(
            [("a", TimeSpan.FromSeconds(1)), ("b", TimeSpan.FromMilliseconds(1300))],
            _batches.Select(b => (b.Key, b.At)).ToArray());
    }

    [Fact]
    public async Task MaxBatchDelayJitter_PartitionsCreatedTogether_FireSpreadOut()
    {
        double[] draws = [0.0, 0.5, 1.0];
        int next = 0;
        await using var batcher = Create(o =>
        {
            o.Partition.MaxBatchDelay = TimeSpan.FromSeconds(1);
            o.MaxBatchDelayJitter = TimeSpan.FromMilliseconds(400);
            o.Randomizer = () => draws[next++];
        });
        batcher.Start();
        foreach (string key in new[] { "a", "b", "c" })
        {
            await batcher.AddAsync(new Ev(key, 0));
        }

        await batcher.WhenIdleAsync().WaitAsync(Guard);
        for (int step = 0; step < 14; step++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await batcher.WhenIdleAsync().WaitAsync(Guard);
        }

        Assert.Equal(
            [("a", TimeSpan.FromMilliseconds(1000)), ("b", TimeSpan.FromMilliseconds(1200)), ("c", TimeSpan.FromMilliseconds(1400))],
            _batches.Select(b => (b.Key, b.At)).OrderBy(b => b.At).ToArray());
    }

    [Fact]
    public async Task Sweep_IdlePartition_IsRetiredAndRecreatedOnNextAdd()
    {
        await using var batcher = Create(o =>
        {
            o.Partition.MaxBatchDelay = TimeSpan.Zero;
            o.IdleTimeout = TimeSpan.FromSeconds(10);
        });
        batcher.Start();
        Assert.Equal(1, await batcher.AddAndWaitAsync(new Ev("a", 1)).AsTask().WaitAsync(Guard));
        Assert.Equal(1, batcher.PartitionCount);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, batcher.PartitionCount);

        // Checked every 5 s: idle since t=0, so retired at the check of t=10 s.
        _time.Advance(TimeSpan.FromSeconds(5));
        await WaitUntilAsync(() => batcher.PartitionsRetired == 1);
        Assert.Equal(0, batcher.PartitionCount);

        Assert.Equal(2, await batcher.AddAndWaitAsync(new Ev("a", 2)).AsTask().WaitAsync(Guard));
        Assert.Equal(2, batcher.PartitionsCreated);
        BatcherCounters counters = batcher.Counters;
        Assert.Equal(2, counters.Accepted);
        Assert.Equal(2, counters.Succeeded);
    }

    [Fact]
    public async Task Sweep_PartitionWithPendingJobs_IsNotRetired()
    {
        await using var batcher = Create(o =>
        {
            o.Partition.MaxBatchDelay = Timeout.InfiniteTimeSpan;
            o.IdleTimeout = TimeSpan.FromSeconds(10);
        });
        batcher.Start();
        await batcher.AddAsync(new Ev("a", 1));
        _time.Advance(TimeSpan.FromSeconds(60));
        batcher.SweepNow();

        Assert.Equal(1, batcher.PartitionCount);
        Assert.Equal(0, batcher.PartitionsRetired);
    }

    [Fact]
    public async Task AddAndWaitAsync_AddsRacingRetirement_NoJobLostOrDuplicated()
    {
        var seen = new ConcurrentDictionary<int, int>();
        await using var batcher = new PartitionedBatcher<string, Ev, int>(
            e => e.Key,
            (key, batch, ct) =>
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    seen.AddOrUpdate(batch[i].Id, 1, (_, n) => n + 1);
                    batch.SetResult(i, batch[i].Id);
                }

                return default;
            },
            new PartitionedBatcherOptions<string, Ev, int>
            {
                Partition = { MaxBatchDelay = TimeSpan.Zero, TimeProvider = _time, MaxBatchSize = 8 },
                IdleTimeout = TimeSpan.FromMilliseconds(1),
            });
        batcher.Start();

        using var stop = new CancellationTokenSource();
        Task retirer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                _time.Advance(TimeSpan.FromMilliseconds(2));
                batcher.SweepNow();
                await Task.Yield();
            }
        });

        // Keys rotate (each is idle while the others are used, then comes back), so partitions retire between uses and
        // adds race their retirement. Rounds repeat, a bounded number of times, until retirements have happened.
        const int PerProducer = 3000;
        int rounds = 0;
        while (rounds == 0 || (batcher.PartitionsRetired < 2 && rounds < 50))
        {
            int round = rounds++;
            Task[] producers = Enumerable.Range(0, 3).Select(p => Task.Run(async () =>
            {
                for (int i = 0; i < PerProducer; i++)
                {
                    int id = (((round * 3) + p) * PerProducer) + i;
                    int result = await batcher.AddAndWaitAsync(new Ev("k" + ((i / 300) % 4), id));
                    Assert.Equal(id, result);
                }
            })).ToArray();

            await Task.WhenAll(producers).WaitAsync(TimeSpan.FromSeconds(60));
        }

        await stop.CancelAsync();
        await retirer;
        await batcher.StopAsync().WaitAsync(Guard);

        int expected = rounds * 3 * PerProducer;
        Assert.True(batcher.PartitionsRetired > 0, $"the test must retire partitions while producers add ({rounds} rounds)");
        Assert.Equal(expected, seen.Count);
        Assert.All(seen.Values, n => Assert.Equal(1, n));
        BatcherCounters counters = batcher.Counters;
        Assert.Equal(expected, counters.Accepted);
        Assert.Equal(expected, counters.Succeeded);
        Assert.Equal(0, counters.Rejected);
    }

    [Fact]
    public async Task AddAsync_BeyondMaxPartitions_ThrowsAndCountsRejected()
    {
        await using var batcher = Create(o => o.MaxPartitions = 2);
        await batcher.AddAsync(new Ev("a", 1));
        await batcher.AddAsync(new Ev("b", 2));

        var ex = await Assert.ThrowsAsync<TooManyPartitionsException>(() => batcher.AddAsync(new Ev("c", 3)).AsTask());
        Assert.Equal(2, ex.MaxPartitions);
        Assert.Contains("MaxPartitions", ex.Message, StringComparison.Ordinal);
        Assert.True(batcher.TryAdd(new Ev("a", 4)));
        Assert.Equal(1, batcher.Counters.Rejected);
        Assert.Equal(3, batcher.Counters.Accepted);
    }

    [Fact]
    public async Task StopAsync_DrainsEveryPartition_ThenAddsThrow()
    {
        var batcher = Create(o => o.Partition.MaxBatchDelay = Timeout.InfiniteTimeSpan);
        batcher.Start();
        for (int i = 0; i < 10; i++)
        {
            await batcher.AddAsync(new Ev("k" + (i % 3), i));
        }

        await batcher.StopAsync().WaitAsync(Guard);

        Assert.Equal(10, _batches.Sum(b => b.Jobs.Length));
        Assert.False(batcher.TryAdd(new Ev("a", 99)));
        Assert.False(batcher.TryAdd(new Ev("new-key", 100)));
        BatcherCounters counters = batcher.Counters;
        Assert.Equal(10, counters.Accepted);
        Assert.Equal(10, counters.Succeeded);
        Assert.Equal(2, counters.Rejected);
    }

    [Fact]
    public async Task Lifetime_Cancelled_StopsEveryPartitionAndRefusesAdds()
    {
        using var lifetime = new CancellationTokenSource();
        var options = new PartitionedBatcherOptions<string, Ev, int> { Partition = { TimeProvider = _time, MaxBatchDelay = Timeout.InfiniteTimeSpan } };
        var batcher = new PartitionedBatcher<string, Ev, int>(
            e => e.Key,
            (key, batch, ct) =>
            {
                _batches.Enqueue((key, batch.ToArray(), TimeSpan.Zero));
                batch.SetResults(batch.Select(e => e.Id).ToArray());
                return default;
            },
            options,
            lifetime.Token);
        batcher.Start();
        ValueTask<int> pending = batcher.AddAndWaitAsync(new Ev("a", 5));

        await lifetime.CancelAsync();

        Assert.Equal(5, await pending.AsTask().WaitAsync(Guard));
        Assert.False(batcher.TryAdd(new Ev("b", 6)));
        await batcher.StopAsync().WaitAsync(Guard);
    }

    [Fact]
    public async Task Counters_WithFailuresAcrossPartitions_AddUp()
    {
        await using var batcher = new PartitionedBatcher<string, Ev, int>(
            e => e.Key,
            (key, batch, ct) =>
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    if (batch[i].Id % 5 == 0)
                    {
                        batch.Fail(i, new InvalidOperationException("bad record"));
                    }
                    else
                    {
                        batch.SetResult(i, batch[i].Id);
                    }
                }

                return default;
            },
            new PartitionedBatcherOptions<string, Ev, int> { Partition = { TimeProvider = _time, MaxBatchSize = 4 } });
        batcher.Start();
        for (int i = 0; i < 100; i++)
        {
            await batcher.AddAsync(new Ev("k" + (i % 4), i));
        }

        await batcher.StopAsync().WaitAsync(Guard);

        BatcherCounters counters = batcher.Counters;
        Assert.Equal(100, counters.Accepted);
        Assert.Equal(20, counters.Failed);
        Assert.Equal(80, counters.Succeeded);
        Assert.Equal(counters.Accepted, counters.Completed);
    }

    [Fact]
    public async Task PositionalHandler_ReceivesKeyAndResultsByPosition()
    {
        await using var batcher = new PartitionedBatcher<string, Ev, string>(
            e => e.Key,
            (key, jobs, ct) => new ValueTask<IReadOnlyList<string>>(jobs.Select(j => $"{key}:{j.Id}").ToArray()),
            new PartitionedBatcherOptions<string, Ev, string> { Partition = { TimeProvider = _time, MaxBatchDelay = TimeSpan.Zero } });
        batcher.Start();

        Assert.Equal("x:7", await batcher.AddAndWaitAsync(new Ev("x", 7)).AsTask().WaitAsync(Guard));
    }

    [Fact]
    public void Ctor_InvalidOptions_ThrowsNamingEachSetting()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Create(o =>
        {
            o.IdleTimeout = TimeSpan.Zero;
            o.MaxPartitions = 0;
            o.MaxBatchDelayJitter = TimeSpan.FromSeconds(-1);
        }));
        Assert.Contains("IdleTimeout", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxPartitions", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxBatchDelayJitter", ex.Message, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var guard = new CancellationTokenSource(Guard);
        while (!condition())
        {
            await Task.Delay(5, guard.Token);
        }
    }

    private PartitionedBatcher<string, Ev, int> Create(Action<PartitionedBatcherOptions<string, Ev, int>> configure)
    {
        var options = new PartitionedBatcherOptions<string, Ev, int>();
        options.Partition.TimeProvider = _time;
        configure(options);
        DateTimeOffset start = _time.GetUtcNow();
        return new PartitionedBatcher<string, Ev, int>(
            e => e.Key,
            (key, batch, ct) =>
            {
                _batches.Enqueue((key, batch.ToArray(), _time.GetUtcNow() - start));
                for (int i = 0; i < batch.Count; i++)
                {
                    batch.SetResult(i, batch[i].Id);
                }

                return default;
            },
            options);
    }
}
