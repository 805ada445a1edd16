using Microsoft.Extensions.Time.Testing;
using Tinybatch.ReliabilityTests.Support;

namespace Tinybatch.ReliabilityTests.Reentrancy;

/// <summary>
/// No user callback runs inside <c>CancellationTokenSource.Cancel()</c> of a stop deadline, nor inside a
/// <c>StopAsync(alreadyCancelledToken)</c> call: the canceller's thread (a host's shutdown, a request's timeout) must not
/// run user code, however long it takes. A [ThreadStatic] flag is set around the call; the callbacks record whether they
/// see it on their thread.
/// </summary>
[Collection(ReliabilitySuite.Name)]
public sealed class CallbackThreadTests
{
    [ThreadStatic]
    private static bool t_insideCall;

    [Fact]
    public async Task Callbacks_StopDeadlineCancelled_NoneRunsInsideCancel()
    {
        await using var scene = new Scene();
        await scene.ReadyAsync();
        using var deadline = new CancellationTokenSource();
        Task stop = scene.Batcher.StopAsync(deadline.Token);

        t_insideCall = true;
        try
        {
            deadline.Cancel();
        }
        finally
        {
            t_insideCall = false;
        }

        await scene.AssertCallbacksOutsideAsync(stop, "CancellationTokenSource.Cancel() of the stop deadline");
    }

    [Fact]
    public async Task Callbacks_StopAsyncWithAlreadyCancelledToken_NoneRunsInsideTheCall()
    {
        await using var scene = new Scene();
        await scene.ReadyAsync();
        using var deadline = new CancellationTokenSource();
        await deadline.CancelAsync();

        Task stop;
        t_insideCall = true;
        try
        {
            stop = scene.Batcher.StopAsync(deadline.Token);
        }
        finally
        {
            t_insideCall = false;
        }

        await scene.AssertCallbacksOutsideAsync(stop, "StopAsync(alreadyCancelledToken)");
    }

    /// <summary>One batch held in its handler (its callbacks come when the deadline abandons it) and two jobs queued behind it.</summary>
    private sealed class Scene : IAsyncDisposable
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly int _mark = Contained.Mark();
        private readonly Task<int>[] _jobs;
        private int _letters;
        private int _completions;
        private int _lettersInside;
        private int _completionsInside;

        public Scene()
        {
            Batcher = new Batcher<int, int>(
                async (Batch<int, int> batch, CancellationToken _) =>
                {
                    _entered.TrySetResult();
                    await _gate.Task;
                    for (int i = 0; i < batch.Count; i++)
                    {
                        batch.SetResult(i, batch[i]);
                    }
                },
                new BatcherOptions<int, int>
                {
                    MaxBatchSize = 1,
                    MaxBatchDelay = TimeSpan.Zero,
                    TimeProvider = new FakeTimeProvider(),
                    OnDeadLetter = _ =>
                    {
                        Interlocked.Increment(ref t_insideCall ? ref _lettersInside : ref _letters);
                    },
                    OnBatchCompleted = _ =>
                    {
                        Interlocked.Increment(ref t_insideCall ? ref _completionsInside : ref _completions);
                    },
                });
            Batcher.Start();
            _jobs = [Batcher.AddAndWaitAsync(1).AsTask(), Batcher.AddAndWaitAsync(2).AsTask(), Batcher.AddAndWaitAsync(3).AsTask()];
        }

        public Batcher<int, int> Batcher { get; }

        /// <summary>Completes once the first batch is held in its handler.</summary>
        public Task ReadyAsync() => _entered.Task.Within(_mark, "the first handler call");

        public async Task AssertCallbacksOutsideAsync(Task stop, string call)
        {
            await stop.Within(_mark, "the stop");
            foreach (Task<int> job in _jobs)
            {
                await Assert.ThrowsAsync<BatcherStoppedException>(() => job.Within(_mark, "a job abandoned at the deadline"));
            }

            // Every abandoned job's letter delivered somewhere (a completion of the abandoned batch, if the batcher reports
            // one, counts too: one that ran inside the call has been counted before the call returned).
            await Contained.Until(
                () => Volatile.Read(ref _letters) + Volatile.Read(ref _lettersInside) == 3,
                _mark,
                $"the dead letters of the three abandoned jobs (so far: {Volatile.Read(ref _letters)} + "
                + $"{Volatile.Read(ref _lettersInside)} inside; {Batcher.Counters})");
            Assert.True(Volatile.Read(ref _lettersInside) == 0, $"{Volatile.Read(ref _lettersInside)} of 3 OnDeadLetter calls ran inside {call}");
            Assert.True(Volatile.Read(ref _completionsInside) == 0, $"OnBatchCompleted ran inside {call}");
        }

        public async ValueTask DisposeAsync()
        {
            _gate.TrySetResult();
            await Batcher.Completion.Settled(_mark, "Completion");
            Contained.ThrowIfEscaped(_mark, "the scenario");
        }
    }
}
