using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.Registry;
using Polly.Retry;
using Tinybatch.Polly;

namespace Tinybatch.Sink.Tests;

public sealed class PollyRetryPolicyTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    [Fact]
    public void Ctor_MaxRetryAttempts_GivesOneMoreAttempt()
    {
        var policy = new PollyRetryPolicy(new RetryStrategyOptions { MaxRetryAttempts = 4 });

        Assert.Equal(5, policy.MaxAttempts);
    }

    [Fact]
    public void GetDelay_ExponentialWithoutJitter_DoublesUpToMaxDelay()
    {
        var policy = new PollyRetryPolicy(new RetryStrategyOptions
        {
            MaxRetryAttempts = 6,
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(100),
            MaxDelay = TimeSpan.FromMilliseconds(1000),
        });

        TimeSpan[] delays = Enumerable.Range(2, 6).Select(a => policy.GetDelay(a, new TimeoutException())).ToArray();

        Assert.Equal(new[] { 100, 200, 400, 800, 1000, 1000 }.Select(ms => TimeSpan.FromMilliseconds(ms)), delays);
    }

    [Fact]
    public void GetDelay_ExponentialWithJitter_StaysWithinPollysBoundsAndVaries()
    {
        var baseDelay = TimeSpan.FromMilliseconds(100);
        var policy = new PollyRetryPolicy(new RetryStrategyOptions
        {
            MaxRetryAttempts = 5,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = baseDelay,
        });

        double previousMean = 0;
        for (int retry = 0; retry < 5; retry++)
        {
            TimeSpan[] samples = Enumerable.Range(0, 500).Select(_ => policy.GetDelay(retry + 2, new TimeoutException())).ToArray();

            // Polly's decorrelated jitter: retry r lies in [0, base * 2^(r+1) / 1.4), and the delays grow on average.
            TimeSpan upper = baseDelay * (Math.Pow(2, retry + 1) / 1.4);
            Assert.All(samples, d => Assert.InRange(d, TimeSpan.Zero, upper));
            Assert.True(samples.Distinct().Count() > 250, $"retry {retry}: jitter must spread the delays");
            double mean = samples.Average(d => d.TotalMilliseconds);
            Assert.True(mean > previousMean, $"retry {retry}: mean {mean} ms must exceed the previous retry's {previousMean} ms");
            previousMean = mean;
            if (retry == 2)
            {
                // Without the earlier attempts replayed, Polly's formula would never go below base * 4 * tanh(sqrt(8)) / 1.4 (~281 ms).
                Assert.Contains(samples, d => d < TimeSpan.FromMilliseconds(250));
            }
        }
    }

    [Fact]
    public void CanRetry_ReasonShouldHandleRejects_ReturnsFalse()
    {
        var policy = new PollyRetryPolicy(new RetryStrategyOptions
        {
            MaxRetryAttempts = 3,
            ShouldHandle = new PredicateBuilder().Handle<TimeoutException>(),
        });

        Assert.True(policy.CanRetry(2, new TimeoutException()));
        Assert.False(policy.CanRetry(2, new ArgumentException("bad record")));
        Assert.True(policy.CanRetry(4, new TimeoutException()));
        Assert.False(policy.CanRetry(5, new TimeoutException()));
    }

    [Fact]
    public async Task Batcher_RetriedJob_WaitsPollysDelaysOnTheBatchersClock_ThenDeadLettersWithLastException()
    {
        var time = new FakeTimeProvider();
        var attemptsAt = new ConcurrentQueue<(int Attempt, TimeSpan At)>();
        var deadLetters = new ConcurrentQueue<DeadLetter<int>>();
        DateTimeOffset start = time.GetUtcNow();
        int onRetryCalls = 0;
        var options = new BatcherOptions<int, int>
        {
            TimeProvider = time,
            MaxBatchDelay = TimeSpan.Zero,
            OnDeadLetter = deadLetters.Enqueue,
        };
        options.UsePollyRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 3,
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromSeconds(1),
            OnRetry = _ =>
            {
                Interlocked.Increment(ref onRetryCalls);
                return default;
            },
        });
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                int attempt = batch.GetAttempt(0);
                attemptsAt.Enqueue((attempt, time.GetUtcNow() - start));
                batch.Retry(0, new TimeoutException($"throttled on attempt {attempt}"));
                return default;
            },
            options);
        batcher.Start();

        ValueTask<int> result = batcher.AddAndWaitAsync(42);
        await batcher.WhenIdleAsync().WaitAsync(Guard);
        foreach (int seconds in new[] { 1, 2, 4 })
        {
            time.Advance(TimeSpan.FromSeconds(seconds) - TimeSpan.FromMilliseconds(1));
            await batcher.WhenIdleAsync().WaitAsync(Guard);
            int before = attemptsAt.Count;
            time.Advance(TimeSpan.FromMilliseconds(1));
            await WaitUntilAsync(() => attemptsAt.Count == before + 1);
            await batcher.WhenIdleAsync().WaitAsync(Guard);
        }

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => result.AsTask().WaitAsync(Guard));
        Assert.Equal("throttled on attempt 4", ex.Message);
        Assert.Equal(
            [(1, TimeSpan.Zero), (2, TimeSpan.FromSeconds(1)), (3, TimeSpan.FromSeconds(3)), (4, TimeSpan.FromSeconds(7))],
            attemptsAt.ToArray());
        DeadLetter<int> dead = Assert.Single(deadLetters);
        Assert.Equal(DeadLetterReason.RetriesExhausted, dead.Reason);
        Assert.Same(ex, dead.Exception);
        Assert.Equal(4, dead.Attempts);
        Assert.Equal(3, onRetryCalls);
        Assert.Equal(3, batcher.Counters.Retried);
    }

    [Fact]
    public async Task RetryOrFail_NonRetryableReason_FailsAtOnceWithThatReason()
    {
        var deadLetters = new ConcurrentQueue<DeadLetter<int>>();
        var options = new BatcherOptions<int, int> { MaxBatchDelay = TimeSpan.Zero, OnDeadLetter = deadLetters.Enqueue };
        PollyRetryPolicy policy = options.UsePollyRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 5,
            Delay = TimeSpan.Zero,
            ShouldHandle = new PredicateBuilder().Handle<TimeoutException>(),
        });
        await using var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    Exception reason = batch[i] < 0 ? new ArgumentException("record too large") : new TimeoutException("throttled");
                    batch.RetryOrFail(i, reason, policy);
                }

                return default;
            },
            options);
        batcher.Start();

        var bad = await Assert.ThrowsAsync<ArgumentException>(() => batcher.AddAndWaitAsync(-1).AsTask().WaitAsync(Guard));
        var slow = await Assert.ThrowsAsync<TimeoutException>(() => batcher.AddAndWaitAsync(1).AsTask().WaitAsync(Guard));

        Assert.Equal("record too large", bad.Message);
        Assert.Equal("throttled", slow.Message);
        Assert.Equal(
            [(DeadLetterReason.Failed, 1), (DeadLetterReason.RetriesExhausted, 6)],
            deadLetters.Select(d => (d.Reason, d.Attempts)).ToArray());
    }

    [Fact]
    public async Task UsePollyRetry_RetryFailedBatches_RetriesTheJobsOfAThrowingHandler()
    {
        int calls = 0;
        var options = new BatcherOptions<int, int> { MaxBatchDelay = TimeSpan.Zero };
        options.UsePollyRetry(new RetryStrategyOptions { MaxRetryAttempts = 2, Delay = TimeSpan.Zero }, retryFailedBatches: true);
        await using var batcher = new Batcher<int, int>(
            (jobs, ct) => Interlocked.Increment(ref calls) < 3
                ? throw new TimeoutException("sink unavailable")
                : jobs.Select(j => j * 2).ToArray(),
            options);
        batcher.Start();

        Assert.Equal(42, await batcher.AddAndWaitAsync(21).AsTask().WaitAsync(Guard));
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task GetDelayAsync_DelayGeneratorCompletesLater_IsAwaitedAndTheSyncFormRefusesToBlock()
    {
        var release = new TaskCompletionSource<TimeSpan?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var policy = new PollyRetryPolicy(new RetryStrategyOptions
        {
            MaxRetryAttempts = 2,
            DelayGenerator = async _ => await release.Task,
        });

        ValueTask<TimeSpan> pending = policy.GetDelayAsync(2, new TimeoutException(), CancellationToken.None);
        Assert.False(pending.IsCompleted);
        var ex = Assert.Throws<InvalidOperationException>(() => policy.GetDelay(2, new TimeoutException()));
        Assert.Contains(nameof(PollyRetryPolicy.GetDelayAsync), ex.Message, StringComparison.Ordinal);

        release.SetResult(TimeSpan.FromSeconds(7));
        Assert.Equal(TimeSpan.FromSeconds(7), await pending.AsTask().WaitAsync(Guard));
    }

    [Fact]
    public async Task ShouldRetryAsync_AsyncShouldHandle_IsAwaited()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var policy = new PollyRetryPolicy(new RetryStrategyOptions
        {
            MaxRetryAttempts = 2,
            Delay = TimeSpan.Zero,
            ShouldHandle = async args =>
            {
                await gate.Task;
                return args.Outcome.Exception is TimeoutException;
            },
        });

        ValueTask<bool> timeout = policy.ShouldRetryAsync(2, new TimeoutException(), CancellationToken.None);
        ValueTask<bool> bad = policy.ShouldRetryAsync(2, new ArgumentException("bad"), CancellationToken.None);
        Assert.False(timeout.IsCompleted);
        gate.SetResult();

        Assert.True(await timeout.AsTask().WaitAsync(Guard));
        Assert.False(await bad.AsTask().WaitAsync(Guard));
    }

    [Fact]
    public async Task Ctor_Pipeline_TakesTheDelaysAndPredicateOfItsRetryStrategy()
    {
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddTimeout(TimeSpan.FromSeconds(30))
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = 3,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(100),
                ShouldHandle = new PredicateBuilder().Handle<TimeoutException>(),
            })
            .Build();

        var policy = new PollyRetryPolicy(pipeline);

        Assert.Equal(4, policy.MaxAttempts);
        Assert.Equal(
            new[] { 100, 200, 400 }.Select(ms => TimeSpan.FromMilliseconds(ms)),
            [await policy.GetDelayAsync(2, new TimeoutException(), default), await policy.GetDelayAsync(3, new TimeoutException(), default), await policy.GetDelayAsync(4, new TimeoutException(), default)]);
        Assert.False(await policy.ShouldRetryAsync(2, new ArgumentException("bad"), default));
    }

    [Fact]
    public void Ctor_PipelineWithoutRetry_ThrowsArgumentExceptionSayingSo()
    {
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder().AddTimeout(TimeSpan.FromSeconds(1)).Build();

        var ex = Assert.Throws<ArgumentException>(() => new PollyRetryPolicy(pipeline));
        Assert.Equal("pipeline", ex.ParamName);
        Assert.Contains("no retry strategy", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ctor_RegistryKey_TakesThePipelineRegisteredUnderIt()
    {
        var registry = new ResiliencePipelineRegistry<string>();
        registry.TryAddBuilder("sink", (builder, _) => builder.AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 5,
            BackoffType = DelayBackoffType.Constant,
            Delay = TimeSpan.FromMilliseconds(250),
        }));

        var policy = new PollyRetryPolicy(registry, "sink");

        Assert.Equal(6, policy.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(250), await policy.GetDelayAsync(4, new TimeoutException(), default));
        Assert.Throws<KeyNotFoundException>(() => new PollyRetryPolicy(registry, "missing"));
    }

    [Fact]
    public async Task Batcher_PollyDelayPending_StopDeadlineCutsTheRetryShort()
    {
        var time = new FakeTimeProvider();
        var deadLetters = new ConcurrentQueue<DeadLetter<int>>();
        var options = new BatcherOptions<int, int> { TimeProvider = time, MaxBatchDelay = TimeSpan.Zero, OnDeadLetter = deadLetters.Enqueue };
        options.UsePollyRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 3,
            DelayGenerator = _ => new ValueTask<TimeSpan?>(TimeSpan.FromHours(1)),
        });
        int calls = 0;
        var batcher = new Batcher<int, int>(
            (batch, ct) =>
            {
                Interlocked.Increment(ref calls);
                batch.Retry(0, new TimeoutException("throttled"));
                return default;
            },
            options);
        batcher.Start();

        ValueTask<int> result = batcher.AddAndWaitAsync(1);
        await WaitUntilAsync(() => Volatile.Read(ref calls) == 1);
        await batcher.WhenIdleAsync().WaitAsync(Guard);
        using var deadline = new CancellationTokenSource();
        await deadline.CancelAsync();
        await batcher.StopAsync(deadline.Token).WaitAsync(Guard);

        await Assert.ThrowsAsync<BatcherStoppedException>(() => result.AsTask().WaitAsync(Guard));
        Assert.Equal(1, calls); // the hour-long delay was never waited out
        await WaitUntilAsync(() => deadLetters.Count == 1);
    }

    [Fact]
    public async Task RetryOrFailAsync_InAnAsyncHandler_FailsNonRetryableAndRetriesTheRest()
    {
        var deadLetters = new ConcurrentQueue<DeadLetter<int>>();
        var options = new BatcherOptions<int, int> { MaxBatchDelay = TimeSpan.Zero, OnDeadLetter = deadLetters.Enqueue };
        PollyRetryPolicy policy = options.UsePollyRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 1,
            Delay = TimeSpan.Zero,
            ShouldHandle = new PredicateBuilder().Handle<TimeoutException>(),
        });
        await using var batcher = new Batcher<int, int>(
            async (batch, ct) =>
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    Exception reason = batch[i] < 0 ? new ArgumentException("record too large") : new TimeoutException("throttled");
                    await batch.RetryOrFailAsync(i, reason, policy, ct);
                }
            },
            options);
        batcher.Start();

        var bad = await Assert.ThrowsAsync<ArgumentException>(() => batcher.AddAndWaitAsync(-1).AsTask().WaitAsync(Guard));
        var slow = await Assert.ThrowsAsync<TimeoutException>(() => batcher.AddAndWaitAsync(1).AsTask().WaitAsync(Guard));

        Assert.Equal("record too large", bad.Message);
        Assert.Equal("throttled", slow.Message);
        Assert.Equal(
            [(DeadLetterReason.Failed, 1), (DeadLetterReason.RetriesExhausted, 2)],
            deadLetters.Select(d => (d.Reason, d.Attempts)).ToArray());
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var guard = new CancellationTokenSource(Guard);
        while (!condition())
        {
            await Task.Delay(2, guard.Token);
        }
    }
}
