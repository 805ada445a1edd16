using System.Diagnostics;

namespace Tinybatch.StressTests;

/// <summary>The totals of one round, after its checks passed or failed.</summary>
public sealed record StressTotals(long Accepted, long Processed, long Failed, long Canceled, long Rejected, long Lost, long Duplicated, IReadOnlyList<string> Problems)
{
    public static StressTotals operator +(StressTotals a, StressTotals b) => new(
        a.Accepted + b.Accepted, a.Processed + b.Processed, a.Failed + b.Failed, a.Canceled + b.Canceled, a.Rejected + b.Rejected,
        a.Lost + b.Lost, a.Duplicated + b.Duplicated, [.. a.Problems, .. b.Problems]);

    public static StressTotals Add(StressTotals a, StressTotals b) => a + b;
}

/// <summary>
/// One round: a batcher with a random configuration, producers adding with every method (some callers cancelling),
/// a handler with random delays and faults, concurrent flushes, and a stop (sometimes with a short deadline) in the
/// middle of the load. Then every job is accounted for.
/// </summary>
public sealed class StressRound(int seed, TimeSpan loadTime)
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);
    private readonly Random _random = new(seed);
    private readonly StressLedger _ledger = new();
    private long _nextId;

    /// <summary>The round's configuration, for the report of a failed round.</summary>
    public string Configuration { get; private set; } = "";

    public async Task<StressTotals> RunAsync()
    {
        int maxBatchSize = _random.Next(1, 64);
        var options = new BatcherOptions<long, long>
        {
            Name = $"stress-{seed}",
            MaxBatchSize = maxBatchSize,
            MaxBatchDelay = _random.Next(4) switch { 0 => TimeSpan.Zero, 1 => Timeout.InfiniteTimeSpan, _ => TimeSpan.FromMilliseconds(_random.Next(1, 5)) },
            MaxConcurrentBatches = _random.Next(1, 5),
            Capacity = maxBatchSize * _random.Next(1, 20),
            Mode = _random.Next(2) == 0 ? BatchingMode.Fixed : BatchingMode.Adaptive,
            OnBatchCompleted = OnBatchCompleted,
            OnDeadLetter = d =>
            {
                // A queued job failed by the stop deadline has only this outcome; an abandoned in-flight one also
                // completes with its batch (the accounting counts that one once).
                if (d.Reason == DeadLetterReason.Stopped)
                {
                    _ledger.Count(_ledger.StopDeadLetters, d.Job);
                }
            },
        };
        int faultPercent = _random.Next(0, 15);
        int producers = _random.Next(2, 9);
        bool deadline = _random.Next(3) == 0;
        var batcher = new Batcher<long, long>(
            (Batch<long, long> batch, CancellationToken token) => HandleAsync(batch, faultPercent, seed, token),
            options);
        batcher.Start();
        Configuration = $"size={options.MaxBatchSize} delay={options.MaxBatchDelay} concurrency={options.MaxConcurrentBatches} capacity={options.Capacity} mode={options.Mode} faults={faultPercent}% producers={producers} deadline={deadline} load={loadTime.TotalMilliseconds}ms";

        using var stopLoad = new CancellationTokenSource();
        Task[] load = Enumerable.Range(0, producers).Select(p => Task.Run(() => ProduceAsync(batcher, seed * 31 + p, stopLoad.Token))).ToArray();
        Task flusher = Task.Run(() => FlushLoopAsync(batcher, stopLoad.Token));

        // Stop in the middle of the load: producers are still adding when it begins.
        await Task.Delay(loadTime);
        using var stopDeadline = new CancellationTokenSource();
        if (deadline)
        {
            stopDeadline.CancelAfter(_random.Next(0, 20));
        }

        Task stop = batcher.StopAsync(deadline ? stopDeadline.Token : CancellationToken.None);
        await Task.Delay(_random.Next(0, 5));
        await stopLoad.CancelAsync();
        var problems = new List<string>();
        await Guarded(Task.WhenAll(load), "producers", problems);
        await Guarded(flusher, "flushes", problems);
        await Guarded(stop, "stop", problems);
        await Guarded(batcher.Completion, "completion", problems);

        // Callers' tasks complete asynchronously (continuations never run on the batcher's threads): give them the guard.
        Task[] callers = [.. _ledger.Awaited.Values.Select(t => t.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default))];
        await Guarded(Task.WhenAll(callers), "awaiting callers", problems);
        return StressRoundAccount.Check(batcher, _ledger, problems);
    }

    private static async Task Guarded(Task task, string what, List<string> problems)
    {
        // Once one stage is stuck the later ones wait on it: give them a short guard so a stuck round ends quickly.
        TimeSpan guard = problems.Any(p => p.StartsWith("stuck:", StringComparison.Ordinal)) ? TimeSpan.FromSeconds(2) : Guard;
        try
        {
            await task.WaitAsync(guard);
        }
        catch (TimeoutException)
        {
            problems.Add($"stuck: {what} did not complete within {guard.TotalSeconds} s");
        }
    }

    private async ValueTask HandleAsync(Batch<long, long> batch, int faultPercent, int handlerSeed, CancellationToken token)
    {
        var random = new Random(HashCode.Combine(handlerSeed, batch.Id));
        foreach (long id in batch)
        {
            _ledger.Count(_ledger.HandlerSeen, id);
        }

        switch (random.Next(4))
        {
            case 0:
                await Task.Delay(random.Next(0, 3), token);
                break;
            case 1:
                await Task.Yield();
                break;
            case 2:
                Thread.SpinWait(random.Next(0, 2000));
                break;
        }

        int roll = random.Next(100);
        if (roll < faultPercent / 2)
        {
            throw new InvalidOperationException($"injected batch failure {batch.Id}");
        }

        for (int i = 0; i < batch.Count; i++)
        {
            if (roll < faultPercent && random.Next(4) == 0)
            {
                batch.Fail(i, new InvalidOperationException($"injected job failure {batch[i]}"));
            }
            else
            {
                batch.SetResult(i, batch[i] * 2);
            }
        }
    }

    private void OnBatchCompleted(Batch<long, long> batch)
    {
        foreach (long id in batch)
        {
            _ledger.Count(_ledger.BatchOutcomes, id);
        }
    }

    private async Task ProduceAsync(Batcher<long, long> batcher, int producerSeed, CancellationToken stopLoad)
    {
        var random = new Random(producerSeed);
        while (!stopLoad.IsCancellationRequested)
        {
            long id = Interlocked.Increment(ref _nextId);
            try
            {
                switch (random.Next(10))
                {
                    case < 4:
                        if (batcher.TryAdd(id))
                        {
                            _ledger.AcceptedFireAndForget[id] = 1;
                        }
                        else
                        {
                            _ledger.Refused();
                        }

                        break;
                    case < 6:
                        await batcher.AddAsync(id, CancellationToken.None);
                        _ledger.AcceptedFireAndForget[id] = 1;
                        break;
                    case < 9:
                        _ledger.Awaited[id] = batcher.AddAndWaitAsync(id, CancellationToken.None).AsTask();
                        break;
                    default:
                        // A caller that gives up quickly: cancelled while queued or after dispatch.
                        var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(random.Next(0, 3)));
                        Task<long> wait = batcher.AddAndWaitAsync(id, cts.Token).AsTask();
                        _ledger.Awaited[id] = wait;
                        _ = wait.ContinueWith(static (t, s) => ((CancellationTokenSource)s!).Dispose(), cts, TaskScheduler.Default);
                        break;
                }
            }
            catch (BatcherStoppedException)
            {
                _ledger.Refused();
            }

            if (random.Next(64) == 0)
            {
                await Task.Yield();
            }
        }
    }

    private async Task FlushLoopAsync(Batcher<long, long> batcher, CancellationToken stopLoad)
    {
        var flushes = new List<Task>();
        while (!stopLoad.IsCancellationRequested)
        {
            flushes.Add(batcher.FlushAsync(CancellationToken.None));
            flushes.Add(batcher.FlushAsync(CancellationToken.None));
            await Task.Delay(1, CancellationToken.None);
        }

        await Task.WhenAll(flushes);
    }
}
