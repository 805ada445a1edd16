using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace Tinybatch.ReliabilityTests.Model;

/// <summary>
/// Runs one <see cref="Scenario"/> against a real batcher on a fake clock and, after every operation, waits for the
/// batcher to be quiescent and compares what it did with the <see cref="BatcherModel"/>.
/// </summary>
public sealed partial class RealBatcherDriver : IAsyncDisposable
{
    /// <summary>Wave callers take ids from here up, apart from the model's jobs.</summary>
    private const int WaveIds = 1_000_000;

    private static readonly TimeSpan Guard = Support.Contained.Guard;

    private readonly Scenario _scenario;
    // Replaced by one of its copies where the contract allows more than one outcome (see DrainAsync).
    private BatcherModel _model;
    private readonly FakeTimeProvider _time = new();
    private readonly Batcher<int, int> _batcher;
    private readonly object _gate = new();
    // Keyed by batch id: with several slots, handlers start in any order, but ids follow dispatch order.
    private readonly SortedDictionary<long, int[]> _handlerBatches = [];
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _holds = new();
    private readonly List<(int Job, JobStatus Status, Exception? Exception, int? Result)> _completed = [];
    private readonly List<DeadLetter<int>> _deadLetters = [];
    private readonly Dictionary<int, Task<int>> _callers = [];
    private readonly Dictionary<int, Task> _adds = [];
    private readonly Dictionary<int, (AddKind Kind, AddResult Result)> _expectedAdds = [];
    private readonly Dictionary<int, CancellationTokenSource> _callerCancels = [];
    private readonly List<Task> _waves = [];
    private readonly List<Task> _flushes = [];
    private readonly List<Task> _stops = [];
    private readonly CancellationTokenSource _deadline = new();

    public RealBatcherDriver(Scenario scenario)
    {
        _scenario = scenario;
        _model = new BatcherModel(scenario);
        var options = new BatcherOptions<int, int>
        {
            MaxBatchSize = scenario.MaxBatchSize,
            MaxBatchDelay = scenario.Delay,
            MaxConcurrentBatches = scenario.MaxConcurrent,
            Capacity = scenario.Capacity,
            Mode = scenario.Adaptive ? BatchingMode.Adaptive : BatchingMode.Fixed,
            OverflowPolicy = scenario.Policy,
            Retry = new JobRetryPolicy(scenario),
            HandlerTimeout = scenario.TimeoutMs > 0 ? TimeSpan.FromMilliseconds(scenario.TimeoutMs) : Timeout.InfiniteTimeSpan,
            TimeProvider = _time,
            OnBatchCompleted = OnBatchCompleted,
            OnDeadLetter = d => { lock (_gate) { _deadLetters.Add(d); } },
        };
        if (scenario.Weighted)
        {
            options.MaxBatchWeight = scenario.MaxWeight;
            options.Weigher = scenario.WeightOf;
        }

        _batcher = new Batcher<int, int>(HandleAsync, options);
        _batcher.Start();
    }

    /// <summary>Gets the model the batcher followed (one of the allowed ones where the contract leaves an order open).</summary>
    public BatcherModel Model => _model;

    /// <summary>Gets what the sequence exercised, for the suite's figures.</summary>
    public Coverage Covered => new(
        _model.Evictions,
        _model.Compactions,
        _model.Flushes.Count,
        (int)_model.Retried,
        (int)_model.TimedOut,
        _model.Abandoned ? 1 : 0,
        _model.Waiters.Count);

    /// <summary>Runs every operation, then drains (release all, stop) and checks the final state.</summary>
    public async Task RunAsync()
    {
        await QuiesceAsync("start");
        for (int step = 0; step < _scenario.Ops.Length; step++)
        {
            Op op = _scenario.Ops[step];
            await ApplyAsync(op, step);
            await QuiesceAsync($"step {step} {op}");
            Compare($"after step {step} {op}");
        }

        await DrainAsync();
        CheckFinal();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (TaskCompletionSource hold in _holds.Values)
        {
            hold.TrySetResult();
        }

        await _deadline.CancelAsync();
        await _batcher.StopAsync(_deadline.Token).WaitAsync(Guard);

        // Observe every caller's task, also when a check failed half-way: none may surface as an unobserved exception.
        Task[] all = [.. _callers.Values, .. _adds.Values, .. _waves, .. _flushes];
        // Observing the combined task does not mark its faulted parts as observed: read each one's exception.
        await Task.WhenAll(all).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default).WaitAsync(Guard);
        foreach (Task task in all)
        {
            _ = task.Exception;
        }

        _deadline.Dispose();
        foreach (CancellationTokenSource cts in _callerCancels.Values)
        {
            cts.Dispose();
        }
    }

    private async ValueTask HandleAsync(Batch<int, int> batch, CancellationToken _)
    {
        int[] jobs = batch.ToArray();
        Behaviour behaviour = _scenario.BehaviourOf(batch.Id);
        TaskCompletionSource? hold = null;
        if (behaviour is Behaviour.Hold or Behaviour.HoldThenThrow)
        {
            hold = _holds.GetOrAdd(batch.Id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }

        lock (_gate)
        {
            _handlerBatches.Add(batch.Id, jobs);
        }

        if (hold is not null)
        {
            // The token is ignored on purpose: a handler that honours it races the stop deadline's abandon (see
            // StuckHandlerTests.StopWithDeadline_HandlerHonoursToken_JobsFailWithBatcherStopped), which would make this
            // test flaky instead of failing that one deterministically.
            await hold.Task;
            behaviour = behaviour == Behaviour.HoldThenThrow ? Behaviour.Throw : Behaviour.Succeed;
        }

        switch (behaviour)
        {
            case Behaviour.Succeed:
                batch.SetResults(jobs.Select(j => j * 10).ToArray());
                break;
            case Behaviour.Throw:
                throw new InjectedFailureException();
            case Behaviour.WrongCount:
                batch.SetResults(jobs.Select(j => j * 10).Append(0).ToArray());
                break;
            case Behaviour.FailOdd:
                for (int i = 0; i < jobs.Length; i++)
                {
                    if (jobs[i] % 2 == 0)
                    {
                        batch.SetResult(i, jobs[i] * 10);
                    }
                    else
                    {
                        batch.Fail(i, new InjectedFailureException());
                    }
                }

                break;
            case Behaviour.RetryFirst:
                batch.Retry(0, new RetryReasonException(jobs[0]));
                for (int i = 1; i < jobs.Length; i++)
                {
                    batch.SetResult(i, jobs[i] * 10);
                }

                break;
            case Behaviour.Forget:
                break;
        }
    }

    private void OnBatchCompleted(Batch<int, int> batch)
    {
        lock (_gate)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                JobOutcome<int> outcome = batch.GetOutcome(i);
                if (outcome.Status != JobStatus.Retry)
                {
                    _completed.Add((batch[i], outcome.Status, outcome.Exception, outcome.Status == JobStatus.Succeeded ? outcome.Result : null));
                }
            }
        }
    }

    private static int Pick(int arg, int count) => count == 0 ? -1 : arg % count;

    /// <summary>What one sequence exercised.</summary>
    public readonly record struct Coverage(int Evictions, int Compactions, int Flushes, int Retries, int Timeouts, int Deadlines, int SpaceWaits);

    /// <summary>The scenario's retry policy: its attempts, and a delay of the base plus the job's id in microseconds.</summary>
    private sealed class JobRetryPolicy : RetryPolicy
    {
        private readonly Scenario _scenario;

        public JobRetryPolicy(Scenario scenario)
        {
            _scenario = scenario;
            MaxAttempts = scenario.MaxAttempts;
        }

        public override TimeSpan GetDelay(int nextAttempt, Exception? reason) =>
            TimeSpan.FromTicks(_scenario.RetryDelayTicksOf(((RetryReasonException)reason!).Job));
    }

    /// <summary>The loop's sleep, through the batcher's test hook: WhenIdleAsync cannot be used while a batch is held.</summary>
    private static class LoopProbe
    {
        public static bool Asleep(Batcher<int, int> batcher) => batcher.IsLoopAsleep;
    }
}
