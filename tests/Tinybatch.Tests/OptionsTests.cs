using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>Contract point 2: defaults, validation, copying, and the three MaxBatchDelay regimes.</summary>
public class OptionsTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(50);

    public static TheoryData<string, Action<BatcherOptions<int, int>>> InvalidOptions => new()
    {
        { "MaxBatchSize", o => o.MaxBatchSize = 0 },
        { "MaxBatchSize", o => o.MaxBatchSize = -1 },
        { "MaxBatchDelay", o => o.MaxBatchDelay = TimeSpan.FromMilliseconds(-2) },
        { "MaxBatchDelay", o => o.MaxBatchDelay = TimeSpan.FromTicks(-1) },
        { "Capacity", o => { o.MaxBatchSize = 10; o.Capacity = 9; } },
        { "MaxConcurrentBatches", o => o.MaxConcurrentBatches = 0 },
        { "MaxBatchWeight", o => o.MaxBatchWeight = 0 },
        { "HandlerTimeout", o => o.HandlerTimeout = TimeSpan.Zero },
        { "HandlerTimeout", o => o.HandlerTimeout = TimeSpan.FromSeconds(-3) },
        { "MaxAttempts", o => o.Retry = new RetryPolicy { MaxAttempts = 0 } },
    };

    [Fact]
    public void Options_Defaults_Are100JobsAndOneSecond()
    {
        var options = new BatcherOptions<int, int>();

        Assert.Equal(100, options.MaxBatchSize);
        Assert.Equal(TimeSpan.FromSeconds(1), options.MaxBatchDelay);
        Assert.Equal(10_000, options.Capacity);
        Assert.Equal(1, options.MaxConcurrentBatches);
        Assert.Equal(OverflowPolicy.Wait, options.OverflowPolicy);
        Assert.Equal(BatchingMode.Fixed, options.Mode);
    }

    [Fact]
    public async Task Batcher_DefaultOptions_DispatchesAt100JobsOrAfterOneSecond()
    {
        var time = new FakeTimeProvider();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(recorder.Echo, new BatcherOptions<int, int> { TimeProvider = time });
        batcher.Start();

        for (int i = 0; i < 100; i++)
        {
            batcher.TryAdd(i);
        }

        await batcher.IdleAsync();
        Assert.Equal(100, Assert.Single(recorder.Batches).Length);

        for (int i = 0; i < 99; i++)
        {
            batcher.TryAdd(i);
        }

        await batcher.IdleAsync();
        time.Advance(TimeSpan.FromSeconds(1) - TimeSpan.FromMilliseconds(1));
        await batcher.IdleAsync();
        Assert.Equal(1, recorder.BatchCount);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await recorder.WhenBatchesAsync(2);
        Assert.Equal(99, recorder.Batches[1].Length);
    }

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Ctor_OptionOutOfRange_ThrowsArgumentOutOfRangeNamingTheOption(string option, Action<BatcherOptions<int, int>> spoil)
    {
        var options = new BatcherOptions<int, int>();
        spoil(options);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Batcher<int, int>((jobs, ct) => jobs, options));

        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Ctor_OptionOutOfRange_ThrowsForEveryHandlerShape(string option, Action<BatcherOptions<int, int>> spoil)
    {
        var options = new BatcherOptions<int, int>();
        spoil(options);

        var sync = Assert.Throws<ArgumentOutOfRangeException>(() => new Batcher<int, int>((jobs, ct) => jobs, options));
        var async = Assert.Throws<ArgumentOutOfRangeException>(
            () => new Batcher<int, int>((jobs, ct) => ValueTask.FromResult(jobs), options));
        var perJob = Assert.Throws<ArgumentOutOfRangeException>(() => new Batcher<int, int>(Handlers.PerJob<int, int>((batch, ct) => default), options));

        Assert.All(new[] { sync, async, perJob }, e => Assert.Contains(option, e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Ctor_SeveralOptionsInvalid_ReportsEveryOne()
    {
        var options = new BatcherOptions<int, int>
        {
            MaxBatchSize = 0,
            MaxBatchDelay = TimeSpan.FromSeconds(-5),
            MaxConcurrentBatches = 0,
            MaxBatchWeight = 0,
            HandlerTimeout = TimeSpan.Zero,
        };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Batcher<int, int>((jobs, ct) => jobs, options));

        Assert.All(
            new[] { "MaxBatchSize", "MaxBatchDelay", "MaxConcurrentBatches", "MaxBatchWeight", "HandlerTimeout" },
            name => Assert.Contains(name, error.Message, StringComparison.Ordinal));
        Assert.StartsWith("Invalid batcher options: ", error.Message, StringComparison.Ordinal);
        Assert.Equal("options", error.ParamName);
    }

    [Fact]
    public void Ctor_NullHandlerOfAnyShape_ThrowsArgumentNullNamingIt()
    {
        Func<IReadOnlyList<int>, CancellationToken, ValueTask<IReadOnlyList<int>>>? asyncPositional = null;
        Func<IReadOnlyList<int>, CancellationToken, IReadOnlyList<int>>? syncPositional = null;
        Func<Batch<int, int>, CancellationToken, ValueTask>? perJob = null;
        IBatchHandler<int, int>? handlerType = null;

        Assert.Equal("processBatch", Assert.Throws<ArgumentNullException>(() => new Batcher<int, int>(asyncPositional!)).ParamName);
        Assert.Equal("processBatch", Assert.Throws<ArgumentNullException>(() => new Batcher<int, int>(syncPositional!)).ParamName);
        Assert.Equal("handleBatch", Assert.Throws<ArgumentNullException>(() => new Batcher<int, int>(perJob!)).ParamName);
        Assert.Equal("handler", Assert.Throws<ArgumentNullException>(() => new Batcher<int, int>(handlerType!)).ParamName);
    }

    [Fact]
    public void Ctor_InvalidRetryTogetherWithOtherInvalidOptions_ReportsEveryOne()
    {
        var options = new BatcherOptions<int, int>
        {
            MaxBatchSize = 0,
            MaxConcurrentBatches = 0,
            Retry = new RetryPolicy { MaxAttempts = 0 },
        };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Batcher<int, int>((jobs, ct) => jobs, options));

        Assert.True(
            new[] { "MaxBatchSize", "MaxConcurrentBatches", "MaxAttempts" }.All(n => error.Message.Contains(n, StringComparison.Ordinal)),
            $"Contract: several invalid options are all reported together, Retry.MaxAttempts included. Message was: {error.Message}");
    }

    [Fact]
    public void Ctor_BoundaryValues_AreAccepted()
    {
        var options = new BatcherOptions<int, int>
        {
            MaxBatchSize = 1,
            Capacity = 1,
            MaxBatchDelay = TimeSpan.Zero,
            MaxConcurrentBatches = 1,
            MaxBatchWeight = 1,
            HandlerTimeout = TimeSpan.FromTicks(1),
            Retry = new RetryPolicy { MaxAttempts = 1 },
        };

        var batcher = new Batcher<int, int>((jobs, ct) => jobs, options);
        options.MaxBatchDelay = Timeout.InfiniteTimeSpan;
        options.HandlerTimeout = Timeout.InfiniteTimeSpan;
        var infinite = new Batcher<int, int>((jobs, ct) => jobs, options);

        Assert.Equal(BatcherState.Created, batcher.State);
        Assert.Equal(BatcherState.Created, infinite.State);
    }

    [Fact]
    public async Task MaxBatchDelay_Fixed_FiresForSecondThirdAndLaterBatches()
    {
        var time = new FakeTimeProvider();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            recorder.Echo,
            new BatcherOptions<int, int> { MaxBatchSize = 100, MaxBatchDelay = Delay, TimeProvider = time });
        batcher.Start();

        for (int round = 1; round <= 5; round++)
        {
            batcher.TryAdd(round);
            batcher.TryAdd(round);
            await batcher.IdleAsync();
            time.Advance(Delay - TimeSpan.FromMilliseconds(1));
            await batcher.IdleAsync();
            Assert.Equal(round - 1, recorder.BatchCount);

            time.Advance(TimeSpan.FromMilliseconds(1));
            await recorder.WhenBatchesAsync(round);
            Assert.Equal(round, recorder.BatchCount);
            Assert.Equal([round, round], recorder.Batches[round - 1]);
        }
    }

    [Fact]
    public async Task MaxBatchDelay_AfterFullBatches_StillFiresForTheRemainder()
    {
        var time = new FakeTimeProvider();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            recorder.Echo,
            new BatcherOptions<int, int> { MaxBatchSize = 3, MaxBatchDelay = Delay, TimeProvider = time });
        batcher.Start();

        for (int i = 0; i < 7; i++)
        {
            batcher.TryAdd(i);
        }

        await batcher.IdleAsync();
        Assert.Equal(2, recorder.BatchCount);

        time.Advance(Delay);
        await recorder.WhenBatchesAsync(3);
        Assert.Equal([6], recorder.Batches[2]);
    }

    [Fact]
    public async Task MaxBatchDelay_Fixed_CountsFromTheFirstJobOfTheBatch()
    {
        var time = new FakeTimeProvider();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            recorder.Echo,
            new BatcherOptions<int, int> { MaxBatchSize = 100, MaxBatchDelay = Delay, TimeProvider = time });
        batcher.Start();

        batcher.TryAdd(1);
        await batcher.IdleAsync();
        time.Advance(TimeSpan.FromMilliseconds(40));
        batcher.TryAdd(2);
        await batcher.IdleAsync();
        time.Advance(TimeSpan.FromMilliseconds(10));
        await recorder.WhenBatchesAsync(1);

        Assert.Equal([1, 2], Assert.Single(recorder.Batches));
    }

    [Fact]
    public async Task MaxBatchDelay_Fixed_PartialBatchWaitsItsDelayEvenWhenTheSlotFrees()
    {
        var time = new FakeTimeProvider();
        var gate = new HandlerGate();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            Handlers.HoldFirstBatch(recorder, gate),
            new BatcherOptions<int, int> { MaxBatchSize = 2, MaxBatchDelay = Delay, TimeProvider = time });
        batcher.Start();

        batcher.TryAdd(1);
        batcher.TryAdd(2);
        await gate.WhenEnteredAsync(1);
        batcher.TryAdd(3);
        gate.Open();
        await batcher.IdleAsync();
        Assert.Equal(1, recorder.BatchCount);

        time.Advance(Delay - TimeSpan.FromMilliseconds(1));
        await batcher.IdleAsync();
        Assert.Equal(1, recorder.BatchCount);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await recorder.WhenBatchesAsync(2);
        Assert.Equal([3], recorder.Batches[1]);
    }

    [Fact]
    public async Task MaxBatchDelay_Zero_DispatchesWithoutTimePassing()
    {
        var time = new FakeTimeProvider();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            recorder.Echo,
            new BatcherOptions<int, int> { MaxBatchSize = 100, MaxBatchDelay = TimeSpan.Zero, TimeProvider = time });
        batcher.Start();

        Assert.Equal(7, await batcher.AddAndWaitAsync(7).Guarded());
        Assert.Equal([7], Assert.Single(recorder.Batches));
    }

    [Fact]
    public async Task MaxBatchDelay_Zero_SlotBusy_AccumulatesUntilTheSlotFrees()
    {
        var time = new FakeTimeProvider();
        var gate = new HandlerGate();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                recorder.Record(jobs);
                await gate.PassAsync();
                return jobs;
            },
            new BatcherOptions<int, int> { MaxBatchSize = 100, MaxBatchDelay = TimeSpan.Zero, TimeProvider = time });
        batcher.Start();

        batcher.TryAdd(1);
        await gate.WhenEnteredAsync(1);
        batcher.TryAdd(2);
        batcher.TryAdd(3);
        batcher.TryAdd(4);
        gate.Open();
        await batcher.IdleAsync();

        Assert.Equal([[1], [2, 3, 4]], recorder.Batches);
    }

    [Fact]
    public async Task MaxBatchDelay_Infinite_PartialBatchWaitsForFlush()
    {
        var time = new FakeTimeProvider();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            recorder.Echo,
            new BatcherOptions<int, int> { MaxBatchSize = 10, MaxBatchDelay = Timeout.InfiniteTimeSpan, TimeProvider = time });
        batcher.Start();

        batcher.TryAdd(1);
        batcher.TryAdd(2);
        await batcher.IdleAsync();
        time.Advance(TimeSpan.FromDays(1));
        await batcher.IdleAsync();
        Assert.Equal(0, recorder.BatchCount);

        await batcher.FlushAsync().Guarded();
        Assert.Equal([1, 2], Assert.Single(recorder.Batches));
    }

    [Fact]
    public async Task MaxBatchDelay_Infinite_PartialBatchDispatchedByStop()
    {
        var time = new FakeTimeProvider();
        var recorder = new Recorder<int>();
        var batcher = new Batcher<int, int>(
            recorder.Echo,
            new BatcherOptions<int, int> { MaxBatchSize = 10, MaxBatchDelay = Timeout.InfiniteTimeSpan, TimeProvider = time });
        batcher.Start();
        batcher.TryAdd(1);
        await batcher.IdleAsync();
        Assert.Equal(0, recorder.BatchCount);

        await batcher.StopAsync().Guarded();

        Assert.Equal([1], Assert.Single(recorder.Batches));
    }

    [Fact]
    public async Task Options_MutatedAfterConstruction_HaveNoEffect()
    {
        var time = new FakeTimeProvider();
        var recorder = new Recorder<int>();
        int completedCallbacks = 0;
        var options = new BatcherOptions<int, int>
        {
            MaxBatchSize = 2,
            MaxBatchDelay = Timeout.InfiniteTimeSpan,
            Capacity = 4,
            TimeProvider = time,
            OnBatchCompleted = _ => Interlocked.Increment(ref completedCallbacks),
        };
        await using var batcher = new Batcher<int, int>(recorder.Echo, options);

        options.MaxBatchSize = 100;
        options.MaxBatchDelay = TimeSpan.Zero;
        options.Capacity = 100;
        options.OnBatchCompleted = _ => throw new InvalidOperationException("replaced callback must never run");
        batcher.Start();

        batcher.TryAdd(1);
        batcher.TryAdd(2);
        batcher.TryAdd(3);
        await batcher.IdleAsync();
        time.Advance(TimeSpan.FromHours(1));
        await batcher.IdleAsync();

        Assert.Equal([1, 2], Assert.Single(recorder.Batches));
        Assert.Equal(1, Volatile.Read(ref completedCallbacks));
        Assert.Equal(0, batcher.Counters.CallbackFailures);
    }

    [Fact]
    public async Task Options_RetryPolicyMutatedAfterConstruction_ChangesNothing()
    {
        var retry = new RetryPolicy { MaxAttempts = 3, RetryFailedBatches = false };
        var options = new BatcherOptions<int, int> { MaxBatchSize = 1, TimeProvider = new FakeTimeProvider(), Retry = retry };
        int calls = 0;
        await using var batcher = new Batcher<int, int>(
            Handlers.Sync<int, int>((jobs, ct) =>
            {
                Interlocked.Increment(ref calls);
                throw new InvalidOperationException("boom");
            }),
            options);

        retry.RetryFailedBatches = true;
        retry.MaxAttempts = 10;
        batcher.Start();

        await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.AddAndWaitAsync(1).Guarded());
        await batcher.IdleAsync();

        Assert.True(
            Volatile.Read(ref calls) == 1,
            $"Contract: options are copied at construction. RetryFailedBatches was false when the batcher was built, "
            + $"but setting it on the RetryPolicy afterwards made the handler run {Volatile.Read(ref calls)} times.");
    }

    [Fact]
    public async Task MaxBatchDelay_SubMillisecond_FiresWhenTheDelayHasPassed()
    {
        var time = new FakeTimeProvider();
        var delay = TimeSpan.FromTicks(15_000); // 1.5 ms
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            recorder.Echo,
            new BatcherOptions<int, int> { MaxBatchSize = 100, MaxBatchDelay = delay, TimeProvider = time });
        batcher.Start();

        batcher.TryAdd(1);
        await batcher.IdleAsync();
        time.Advance(delay);

        // No idle poke here: only the delay timer may wake the loop. A short real-time guard detects that it did not.
        bool fired = await recorder.WhenBatchesAsync(1, TimeSpan.FromSeconds(5)).ContinueWith(t => t.Exception is null, TaskScheduler.Default);

        Assert.True(
            fired,
            "Contract: MaxBatchDelay bounds how long the first job waits. With a 1.5 ms delay, the batch was still pending "
            + "after 1.5 ms of fake time (the delay timer is rounded up to whole milliseconds).");
    }

    [Fact]
    public async Task MaxBatchDelay_ExpiresWhileTheSlotIsBusy_BatchGoesAsSoonAsTheSlotFrees()
    {
        var time = new FakeTimeProvider();
        var gate = new HandlerGate();
        var recorder = new Recorder<int>();
        await using var batcher = new Batcher<int, int>(
            Handlers.HoldFirstBatch(recorder, gate),
            new BatcherOptions<int, int> { MaxBatchSize = 1, MaxBatchDelay = Delay, TimeProvider = time });
        batcher.Start();

        batcher.TryAdd(1);
        await gate.WhenEnteredAsync(1);
        batcher.TryAdd(2);
        batcher.TryAdd(3);
        time.Advance(Delay);
        Assert.Equal(1, recorder.BatchCount);

        // No more time passes: the overdue batches go as soon as the slot is free.
        gate.Open();
        await recorder.WhenBatchesAsync(3);
        Assert.Equal([[1], [2], [3]], recorder.Batches);
    }
}
