using System.Runtime.CompilerServices;
using Tinybatch.Tests.TestSupport;

// These tests spell out what "await" does; each ValueTask is consumed exactly once, through its awaiter.
#pragma warning disable CA2012

namespace Tinybatch.Tests;

/// <summary>
/// Where an awaited job's continuation runs. The batcher queues it to the thread pool itself (first in, first out), so
/// it must keep what a caller expects of any awaitable: the execution context flows when asked for, and a captured task
/// scheduler or synchronization context is honoured (the latter in the reliability tests).
/// </summary>
public class ContinuationTests
{
    private static readonly AsyncLocal<string?> Ambient = new();

    private static Batcher<int, int> HeldEcho(Task release) => new(
        async (IReadOnlyList<int> jobs, CancellationToken _) =>
        {
            await release.ConfigureAwait(false);
            return jobs;
        },
        new BatcherOptions<int, int> { MaxBatchSize = 2, MaxBatchDelay = Timeout.InfiniteTimeSpan });

    [Fact]
    public async Task AwaiterOnCompleted_FlowsTheCallersExecutionContext_UnsafeOnCompletedDoesNot()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using Batcher<int, int> batcher = HeldEcho(release.Task);
        batcher.Start();
        var flowed = new TaskCompletionSource<(string? Ambient, int Result)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var unflowed = new TaskCompletionSource<(string? Ambient, int Result)>(TaskCreationOptions.RunContinuationsAsynchronously);

        // Registered from the thread pool, where no context is captured (the test runner may install one here).
        await Task.Run(() =>
        {
            Ambient.Value = "caller";
            ValueTaskAwaiter<int> safe = batcher.AddAndWaitAsync(1).GetAwaiter();
            ValueTaskAwaiter<int> @unsafe = batcher.AddAndWaitAsync(2).GetAwaiter();
            Assert.False(safe.IsCompleted);
            Assert.False(@unsafe.IsCompleted);
            safe.OnCompleted(() => flowed.SetResult((Ambient.Value, safe.GetResult())));
            @unsafe.UnsafeOnCompleted(() => unflowed.SetResult((Ambient.Value, @unsafe.GetResult())));
        });
        release.SetResult();

        Assert.Equal(("caller", 1), await flowed.Task.Guarded());
        Assert.Equal(((string?)null, 2), await unflowed.Task.Guarded());
    }

    [Fact]
    public async Task Await_UnderACustomTaskScheduler_ResumesOnItUnlessConfiguredNotTo()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using Batcher<int, int> batcher = HeldEcho(release.Task);
        batcher.Start();
        TaskScheduler scheduler = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;
        var plain = new TaskCompletionSource<(TaskScheduler Scheduler, int Result)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var configured = new TaskCompletionSource<(TaskScheduler Scheduler, int Result)>(TaskCreationOptions.RunContinuationsAsynchronously);

        // What "await" does, spelled out, so both continuations are registered before the batch is let go.
        await Task.Factory.StartNew(
            () =>
            {
                ValueTaskAwaiter<int> captures = batcher.AddAndWaitAsync(5).GetAwaiter();
                ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter frees =
                    batcher.AddAndWaitAsync(6).ConfigureAwait(false).GetAwaiter();
                Assert.False(captures.IsCompleted);
                Assert.False(frees.IsCompleted);
                captures.UnsafeOnCompleted(() => plain.SetResult((TaskScheduler.Current, captures.GetResult())));
                frees.UnsafeOnCompleted(() => configured.SetResult((TaskScheduler.Current, frees.GetResult())));
            },
            CancellationToken.None,
            TaskCreationOptions.None,
            scheduler).Guarded();
        release.SetResult();

        Assert.Equal((scheduler, 5), await plain.Task.Guarded());
        Assert.Equal((TaskScheduler.Default, 6), await configured.Task.Guarded());
    }

    /// <summary>
    /// A caller's continuation never runs inline on the thread that completed its job: blocked there, it would hold the
    /// batch, and every flush and stop behind it, for as long as the caller's code runs.
    /// </summary>
    [Fact]
    public async Task AwaitingCaller_BlockingInItsContinuation_DoesNotHoldItsBatch()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using Batcher<int, int> batcher = HeldEcho(release.Task);
        batcher.Start();
        using var blocking = new ManualResetEventSlim(false);
        var resumed = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

        ValueTaskAwaiter<int> awaiter = batcher.AddAndWaitAsync(1).GetAwaiter();
        Task flush = batcher.FlushAsync();
        Assert.False(awaiter.IsCompleted);

        // Registered from the thread pool, where no context is captured (the test runner may install one here).
        await Task.Run(() => awaiter.UnsafeOnCompleted(() =>
        {
            resumed.SetResult(awaiter.GetResult());
            blocking.Wait(); // released by the finally below, pass or fail
        }));

        try
        {
            release.SetResult();
            Assert.Equal(1, await resumed.Task.Guarded());

            // Completes only if the batch retired while its caller's continuation is still blocked.
            await flush.Guarded();
        }
        finally
        {
            blocking.Set();
        }
    }

    /// <summary>
    /// Callers resume in the order their jobs completed. Queued to the completing worker's local queue instead (last in,
    /// first out), the callers of later batches ran first and a few callers raced through all their requests while
    /// others starved: at the moment the first caller finished, some had done almost none.
    /// </summary>
    [Fact]
    public async Task ManyAwaitingCallers_ResumeInCompletionOrder_NoneFallsFarBehind()
    {
        const int Callers = 100;
        const int Rounds = 1000;
        await using var batcher = new Batcher<int, int>(
            Handlers.Sync<int, int>((jobs, _) => jobs),
            new BatcherOptions<int, int> { MaxBatchSize = 100, Mode = BatchingMode.Adaptive });
        var progress = new int[Callers];
        int[]? whenFirstFinished = null;

        async Task CallAsync(int caller)
        {
            for (int round = 1; round <= Rounds; round++)
            {
                Assert.Equal(caller, await batcher.AddAndWaitAsync(caller));
                Volatile.Write(ref progress[caller], round);
            }

            int[] snapshot = progress.Select((_, i) => Volatile.Read(ref progress[i])).ToArray();
            Interlocked.CompareExchange(ref whenFirstFinished, snapshot, null);
        }

        // Every caller's first job is queued before the batcher starts, so all of them start together.
        Task[] callers = Enumerable.Range(0, Callers).Select(CallAsync).ToArray();
        batcher.Start();
        await Task.WhenAll(callers).Guarded();

        int slowest = whenFirstFinished!.Min();
        Assert.True(
            slowest >= Rounds / 4,
            $"When the first caller finished its {Rounds} requests, the slowest caller had done {slowest}.");
    }
}
