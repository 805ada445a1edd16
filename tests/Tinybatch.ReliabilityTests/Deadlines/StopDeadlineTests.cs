using Microsoft.Extensions.Time.Testing;
using Tinybatch.ReliabilityTests.Support;

namespace Tinybatch.ReliabilityTests.Deadlines;

/// <summary>
/// A stop deadline always wins: <c>StopAsync(token)</c> returns once its token fires, whatever state the batch is in:
/// queued, inside a handler call (honouring or ignoring its token), between the handler's return and the batch's
/// retirement (a blocking <c>OnBatchCompleted</c> or <c>OnDeadLetter</c>, a retry policy that blocks or never answers,
/// a retry delay no timer can hold), waiting out a retry delay, behind a flush, or paused by an outage backoff. Every
/// job then has its outcome. Each wait is guarded (10 s) and fails at once if an exception escapes.
/// </summary>
[Collection(ReliabilitySuite.Name)]
public sealed partial class StopDeadlineTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly ManualResetEventSlim _release = new();
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _mark = Contained.Mark();
    private int _calls;
    private int _returns;

    /// <summary>Releases whatever the test left blocked (a callback, a policy, a handler), so no thread stays parked.</summary>
    public void Dispose()
    {
        _release.Set();
        _gate.TrySetResult();
        _release.Dispose();
    }

    [Fact]
    public async Task StopWithDeadline_JobQueuedBehindAHeldBatch_ReturnsAndFailsBoth()
    {
        Batcher<int, int> batcher = Build(HoldFirstCall(honourToken: false));
        Task<int> held = batcher.AddAndWaitAsync(1).AsTask();
        await Contained.Until(() => Calls == 1, _mark, "the first handler call");
        Task<int> queued = batcher.AddAndWaitAsync(2).AsTask();

        await StopAtDeadlineAsync(batcher);

        await AssertStoppedAsync(held, queued);
        await AssertDrainedAsync(batcher);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task StopWithDeadline_InsideAHandlerCall_ReturnsAndFailsItsJobWithBatcherStopped(bool honourToken)
    {
        Batcher<int, int> batcher = Build(HoldFirstCall(honourToken));
        Task<int> held = batcher.AddAndWaitAsync(1).AsTask();
        await Contained.Until(() => Calls == 1, _mark, "the handler call");

        await StopAtDeadlineAsync(batcher);

        await AssertStoppedAsync(held);
        await AssertDrainedAsync(batcher);
    }

    /// <summary>Between finalize and retire: the batch's outcomes are applied, its callback blocks before the slot is given back.</summary>
    [Fact]
    public async Task StopWithDeadline_InsideABlockingOnBatchCompleted_Returns()
    {
        int callbacks = 0;
        Batcher<int, int> batcher = Build(Succeed, o => o.OnBatchCompleted = _ =>
        {
            Interlocked.Increment(ref callbacks);
            _release.Wait();
        });
        Task<int> done = batcher.AddAndWaitAsync(1).AsTask();
        await Contained.Until(() => Volatile.Read(ref callbacks) == 1, _mark, "the blocking OnBatchCompleted");
        Task<int> queued = batcher.AddAndWaitAsync(2).AsTask();

        await StopAtDeadlineAsync(batcher);

        await AssertEitherAsync<InjectedFailureException>(done, 10);
        await AssertStoppedAsync(queued);
        await AssertDrainedAsync(batcher);
    }

    [Fact]
    public async Task StopWithDeadline_InsideABlockingOnDeadLetter_Returns()
    {
        int letters = 0;
        Batcher<int, int> batcher = Build(FailAll, o => o.OnDeadLetter = _ =>
        {
            if (Interlocked.Increment(ref letters) == 1)
            {
                _release.Wait();
            }
        });
        Task<int> failed = batcher.AddAndWaitAsync(1).AsTask();
        await Contained.Until(() => Volatile.Read(ref letters) == 1, _mark, "the blocking OnDeadLetter");
        Task<int> queued = batcher.AddAndWaitAsync(2).AsTask();

        await StopAtDeadlineAsync(batcher);

        await AssertEitherAsync<InjectedFailureException>(failed, null);
        await AssertStoppedAsync(queued);
        await AssertDrainedAsync(batcher);
    }

    /// <summary>A retry policy is user code: one that blocks in <c>GetDelay</c> holds the batch between finalize and retire today.</summary>
    [Fact]
    public async Task StopWithDeadline_RetryPolicyGetDelayBlocks_ReturnsAndFailsTheJob()
    {
        var policy = new BlockingPolicy(_release);
        Batcher<int, int> batcher = Build(RetryAll, o => o.Retry = policy);
        Task<int> retried = batcher.AddAndWaitAsync(1).AsTask();
        await Contained.Until(() => policy.Entered, _mark, "the blocking GetDelay");

        await StopAtDeadlineAsync(batcher);

        await AssertStoppedAsync(retried);
        await AssertDrainedAsync(batcher);
    }

    [Fact]
    public async Task StopWithDeadline_RetryPolicyGetDelayAsyncNeverAnswers_ReturnsAndFailsTheJob()
    {
        var policy = new SilentPolicy();
        Batcher<int, int> batcher = Build(RetryAllAsync, o => o.Retry = policy);
        Task<int> retried = batcher.AddAndWaitAsync(1).AsTask();
        await Contained.Until(() => Returns >= 1 || retried.IsCompleted, _mark, "the first attempt's return");
        Assert.False(retried.IsCompleted, $"the job has an outcome while its policy has not answered: {retried.Exception?.InnerException}");

        await StopAtDeadlineAsync(batcher);

        await AssertStoppedAsync(retried);
        await AssertDrainedAsync(batcher);
    }

    /// <summary>
    /// The reported hang: an asynchronous handler asks for a retry whose delay no timer can hold. Today the timer throws
    /// after the batch is finalized and before it is retired, inside an unawaited task: the slot is never given back, and
    /// the deadline's abandonment skips the finalized batch.
    /// </summary>
    [Fact]
    public async Task StopWithDeadline_RetryDelayMaxValueWithAsynchronousHandler_ReturnsAndFailsTheJob()
    {
        Batcher<int, int> batcher = Build(RetryAllAsync, o => o.Retry = new RetryPolicy { Delay = TimeSpan.MaxValue });
        Task<int> retried = batcher.AddAndWaitAsync(1).AsTask();
        await Contained.Until(() => Returns >= 1, _mark, "the first attempt's return");

        await StopAtDeadlineAsync(batcher);

        await AssertStoppedAsync(retried);
        await AssertDrainedAsync(batcher);
    }

    [Fact]
    public async Task StopWithDeadline_DuringARetryWait_ReturnsAndFailsTheJob()
    {
        Batcher<int, int> batcher = Build(RetryAllAsync, o => o.Retry = new RetryPolicy { Delay = TimeSpan.FromHours(1) });
        Task<int> retried = batcher.AddAndWaitAsync(1).AsTask();
        await Contained.Until(() => Calls >= 1, _mark, "the first attempt");
        await batcher.WhenIdleAsync().IdleUnlessFailed(retried, _mark, "the loop with the job waiting for its retry");
        _time.Advance(TimeSpan.FromMinutes(59));

        await StopAtDeadlineAsync(batcher);

        await AssertStoppedAsync(retried);
        Assert.Equal(1, Calls);
        await AssertDrainedAsync(batcher);
    }

    [Fact]
    public async Task StopWithDeadline_DuringAFlush_ReturnsAndCompletesTheFlush()
    {
        Batcher<int, int> batcher = Build(HoldFirstCall(honourToken: false));
        Task<int> held = batcher.AddAndWaitAsync(1).AsTask();
        await Contained.Until(() => Calls == 1, _mark, "the handler call");
        Task<int> queued = batcher.AddAndWaitAsync(2).AsTask();
        Task flush = batcher.FlushAsync();
        Assert.False(flush.IsCompleted, "the flush completed with its jobs still pending");

        await StopAtDeadlineAsync(batcher);

        await flush.Within(_mark, "the flush, after the deadline gave its jobs their outcomes");
        await AssertStoppedAsync(held, queued);
        await AssertDrainedAsync(batcher);
    }

    [Fact]
    public async Task StopWithDeadline_DispatchPausedByOutageBackoff_ReturnsAndGivesEveryJobItsOutcome()
    {
        Batcher<int, int> batcher = Build(FailAll, o => o.OutageBackoff = new LongPause());
        Task<int> failed = batcher.AddAndWaitAsync(1).AsTask();
        await Assert.ThrowsAsync<InjectedFailureException>(() => failed.Within(_mark, "the failing job"));
        Task<int> queued = batcher.AddAndWaitAsync(2).AsTask();
        await batcher.WhenIdleAsync().Settled(_mark, "the loop, paused or not");

        await StopAtDeadlineAsync(batcher);

        await queued.Settled(_mark, "the job queued during the pause");
        Assert.True(queued.IsCompletedSuccessfully || queued.Exception?.InnerException is BatcherStoppedException or InjectedFailureException,
            $"the queued job ended with {queued.Exception?.InnerException}");
        await AssertDrainedAsync(batcher);
    }
}
