using Microsoft.Extensions.Time.Testing;
using Tinybatch.ReliabilityTests.Support;

namespace Tinybatch.ReliabilityTests.Reentrancy;

/// <summary>
/// Re-entrancy is decided: AddAndWaitAsync, FlushAsync, StopAsync and DisposeAsync called from inside the batcher's own
/// handler, OnBatchCompleted or OnDeadLetter fail fast with an InvalidOperationException that says why (awaiting there
/// would wait for the batch that is running the call); TryAdd and AddAsync from a handler work. "Fail fast" means the
/// call throws, or returns a task already faulted with it: nothing is left waiting, nothing is begun (the batcher keeps
/// running, so a refused StopAsync stops nothing).
/// </summary>
[Collection(ReliabilitySuite.Name)]
public sealed class ReentrancyTests
{
    public enum Reentry
    {
        AddAndWaitAsync,
        FlushAsync,
        StopAsync,
        DisposeAsync,
    }

    public enum Place
    {
        Handler,
        OnBatchCompleted,
        OnDeadLetter,
    }

    public static TheoryData<Reentry, Place> AllCalls()
    {
        var data = new TheoryData<Reentry, Place>();
        foreach (Reentry call in Enum.GetValues<Reentry>())
        {
            foreach (Place place in Enum.GetValues<Place>())
            {
                data.Add(call, place);
            }
        }

        return data;
    }

    public static TheoryData<Reentry, Place> ResultlessCalls()
    {
        var data = new TheoryData<Reentry, Place>();
        foreach ((Reentry call, Place place) in AllCalls().Select(row => ((Reentry)row[0], (Place)row[1])).Where(r => r.Item1 != Reentry.AddAndWaitAsync))
        {
            data.Add(call, place);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllCalls))]
    public async Task Call_FromInsideTheBatchersOwnCode_FailsFastWithInvalidOperation(Reentry call, Place place)
    {
        int mark = Contained.Mark();
        var attempt = new Attempt();
        Batcher<int, int>? batcher = null;
        void Reenter() => attempt.Run(() => Invoke(batcher!, call));
        batcher = new Batcher<int, int>(
            (Batch<int, int> batch, CancellationToken _) =>
            {
                if (place == Place.Handler)
                {
                    Reenter();
                }

                for (int i = 0; i < batch.Count; i++)
                {
                    if (place == Place.OnDeadLetter)
                    {
                        batch.Fail(i, new InjectedFailureException());
                    }
                    else
                    {
                        batch.SetResult(i, batch[i] * 10);
                    }
                }

                return ValueTask.CompletedTask;
            },
            new BatcherOptions<int, int>
            {
                MaxBatchSize = 1,
                MaxBatchDelay = TimeSpan.Zero,
                TimeProvider = new FakeTimeProvider(),
                OnBatchCompleted = _ => { if (place == Place.OnBatchCompleted) { Reenter(); } },
                OnDeadLetter = _ => { if (place == Place.OnDeadLetter) { Reenter(); } },
            });
        batcher.Start();

        await batcher.AddAndWaitAsync(1).AsTask().Settled(mark, "the job whose code re-enters");
        await Contained.Until(() => attempt.Done, mark, "the re-entrant call");
        BatcherState afterCall = batcher.State;
        await CleanUpAsync(batcher, attempt, mark);
        attempt.AssertFailedFast(call, place);
        Assert.True(afterCall == BatcherState.Running, $"{call} from {place} was refused, yet the batcher is {afterCall}");
    }

    [Theory]
    [MemberData(nameof(ResultlessCalls))]
    public async Task Call_FromInsideAResultlessBatchersOwnCode_FailsFastWithInvalidOperation(Reentry call, Place place)
    {
        int mark = Contained.Mark();
        var attempt = new Attempt();
        Batcher<int>? batcher = null;
        void Reenter() => attempt.Run(() => call switch
        {
            Reentry.FlushAsync => batcher!.FlushAsync(),
            Reentry.StopAsync => batcher!.StopAsync(),
            _ => batcher!.DisposeAsync().AsTask(),
        });
        batcher = new Batcher<int>(
            (batch, _) =>
            {
                if (place == Place.Handler)
                {
                    Reenter();
                }

                return place == Place.OnDeadLetter ? throw new InjectedFailureException() : ValueTask.CompletedTask;
            },
            new BatcherOptions<int>
            {
                MaxBatchSize = 1,
                MaxBatchDelay = TimeSpan.Zero,
                TimeProvider = new FakeTimeProvider(),
                OnBatchCompleted = _ => { if (place == Place.OnBatchCompleted) { Reenter(); } },
                OnDeadLetter = _ => { if (place == Place.OnDeadLetter) { Reenter(); } },
            });
        batcher.Start();

        Assert.True(batcher.TryAdd(1));
        await Contained.Until(() => attempt.Done, mark, "the re-entrant call");
        if (attempt.Pending is { } pending)
        {
            Contained.Observe(pending);
        }

        using var deadline = new CancellationTokenSource();
        await deadline.CancelAsync();
        await batcher.StopAsync(deadline.Token).Within(mark, "the clean-up stop");
        attempt.AssertFailedFast(call, place);
    }

    [Fact]
    public async Task TryAddAndAddAsync_FromInsideTheHandler_Work()
    {
        int mark = Contained.Mark();
        var seen = new List<int>();
        Batcher<int, int>? batcher = null;
        batcher = new Batcher<int, int>(
            async (Batch<int, int> batch, CancellationToken _) =>
            {
                lock (seen)
                {
                    seen.AddRange(batch);
                }

                if (batch[0] == 1)
                {
                    Assert.True(batcher!.TryAdd(2), "TryAdd from the handler was refused");
                    await batcher.AddAsync(3, CancellationToken.None);
                }

                for (int i = 0; i < batch.Count; i++)
                {
                    batch.SetResult(i, batch[i] * 10);
                }
            },
            // Three places: job 1 keeps its place while its handler runs (a job holds its place until its outcome), so
            // with two the handler's AddAsync(3) would wait for a place only the handler itself can give back.
            new BatcherOptions<int, int> { MaxBatchSize = 1, MaxBatchDelay = TimeSpan.Zero, Capacity = 3, TimeProvider = new FakeTimeProvider() });
        batcher.Start();

        Assert.Equal(10, await batcher.AddAndWaitAsync(1).Within(mark, "the job whose handler adds"));
        await batcher.StopAsync().Within(mark, "the stop");
        Assert.Equal([1, 2, 3], seen);
        Assert.Equal(3, batcher.Counters.Succeeded);
        Contained.ThrowIfEscaped(mark, "the scenario");
    }

    private static Task Invoke(Batcher<int, int> batcher, Reentry call) => call switch
    {
        Reentry.AddAndWaitAsync => batcher.AddAndWaitAsync(99).AsTask(),
        Reentry.FlushAsync => batcher.FlushAsync(),
        Reentry.StopAsync => batcher.StopAsync(),
        _ => batcher.DisposeAsync().AsTask(),
    };

    /// <summary>Frees whatever a call that did not fail fast left waiting (today: a deadlock until a deadline).</summary>
    private static async Task CleanUpAsync(Batcher<int, int> batcher, Attempt attempt, int mark)
    {
        if (attempt.Pending is { } pending)
        {
            Contained.Observe(pending);
        }

        Assert.True(attempt.Done);
        using var deadline = new CancellationTokenSource();
        await deadline.CancelAsync();
        await batcher.StopAsync(deadline.Token).Within(mark, "the clean-up stop");
    }

    /// <summary>One re-entrant call: what it threw, or the task it returned and whether that was already complete.</summary>
    private sealed class Attempt
    {
        private int _done;

        public Exception? Thrown { get; private set; }

        public Task? Returned { get; private set; }

        public bool CompletedAtOnce { get; private set; }

        public bool Done => Volatile.Read(ref _done) != 0;

        /// <summary>Gets the returned task if it was left waiting.</summary>
        public Task? Pending => Returned is { IsCompleted: false } task ? task : null;

        public void Run(Func<Task> call)
        {
            if (Interlocked.Exchange(ref _done, 1) != 0)
            {
                return;
            }

            try
            {
                Task task = call();
                Returned = task;
                CompletedAtOnce = task.IsCompleted;
                Contained.Observe(task);
            }
            catch (Exception ex)
            {
                Thrown = ex;
            }
        }

        public void AssertFailedFast(Reentry call, Place place)
        {
            Exception? failure = Thrown ?? (CompletedAtOnce && Returned!.IsFaulted ? Returned.Exception!.InnerException : null);
            string what = $"{call} from {place}";
            Assert.True(failure is not null,
                $"{what} neither threw nor returned a faulted task: it returned a task that was {(CompletedAtOnce ? Returned!.Status.ToString() : "left waiting (a deadlock)")}");
            Assert.True(failure is InvalidOperationException, $"{what} failed with {failure!.GetType().Name}: {failure.Message}");
            Assert.Contains("wait", failure.Message, StringComparison.OrdinalIgnoreCase);
        }
    }
}
