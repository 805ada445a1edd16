using System.Diagnostics;
using Tinybatch.Benchmarks.Implementations;

namespace Tinybatch.Benchmarks.Scenarios;

/// <summary>
/// S3-steady: the callers of S3, but each runs until a deadline instead of for a fixed share of the requests. The
/// figures count only what happened before the deadline: the requests that completed by then, and the CPU and
/// allocation up to then. The tail (each caller's last request, still in flight at the deadline, and the partial
/// batches that then wait out the delay) is excluded, so the rate is the steady state's, not the drain's.
/// </summary>
/// <remarks>
/// Callers take their ids in blocks of <see cref="IdBlock"/> from one shared counter: a shared write per 64 requests,
/// not per request, and ids stay dense even when an implementation resumes some callers far more often than others.
/// Every id still reaches the handler exactly once (checked, tail included). A run that runs out of ids (the sink
/// holds <see cref="Scenario.Items"/>) fails loudly rather than stopping early.
/// </remarks>
internal sealed class SteadyRequestScenario : Scenario
{
    /// <summary>The most requests per second the sink is sized for.</summary>
    private const long MaxRequestsPerSecond = 8_000_000;

    /// <summary>How many ids a caller takes from the shared counter at once.</summary>
    private const int IdBlock = 64;

    /// <summary>Marks the latency slot of a request that completed after the deadline (left out of the percentiles).</summary>
    private const long AfterDeadline = -1;

    private readonly int _callers;
    private readonly TimeSpan _duration;
    private TaskCompletionSource? _go;
    private Task[] _tasks = [];
    private long[] _beforeDeadline = [];
    private (long From, long To)[] _unused = [];
    private long _nextId;
    private long _deadline;
    private long _start;
    private Window _atDeadline;

    public SteadyRequestScenario(string id, int callers, TimeSpan duration)
        : base(
            id,
            $"{callers:N0} callers awaiting results, steady state ({duration.TotalSeconds:0.#} s per round, tail excluded)",
            (long)Math.Ceiling(duration.TotalSeconds * MaxRequestsPerSecond),
            sampleShift: 0,
            requests: true,
            concurrentProducers: true)
    {
        _callers = callers;
        _duration = duration;
    }

    public override Scenario WarmUp() => new SteadyRequestScenario(Id, _callers, TimeSpan.FromSeconds(0.3));

    protected override Task PrepareAsync(IBatchingImplementation implementation, BatchSink sink)
    {
        _go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _tasks = new Task[_callers];
        _beforeDeadline = new long[_callers];
        _unused = new (long, long)[_callers];
        _nextId = 0;
        for (int c = 0; c < _callers; c++)
        {
            // Each caller runs to its first await (the gate) now, so its state machine is allocated before the clock starts.
            _tasks[c] = CallAsync(implementation, sink, _go.Task, c);
        }

        return Task.CompletedTask;
    }

    protected override async Task ProduceAsync(IBatchingImplementation implementation, BatchSink sink)
    {
        long allocatedBefore = GC.GetTotalAllocatedBytes(true);
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        _start = Stopwatch.GetTimestamp();
        _deadline = _start + (long)(_duration.TotalSeconds * Stopwatch.Frequency);
        var snapshot = new Thread(() => SnapshotAtDeadline(allocatedBefore, cpuBefore)) { IsBackground = true, Name = "deadline" };
        snapshot.Start();
        _go!.SetResult();
        await Task.WhenAll(_tasks);

        // Every caller has its last result, so the handler has seen every request.
        sink.ExpectExactly(RequestsMade());
        await Task.Run(snapshot.Join);
    }

    protected override Window MeasuredWindow(Window wholeRun) => _atDeadline with { Items = _beforeDeadline.Sum() };

    protected override void Verify(IBatchingImplementation implementation, BatchSink sink)
    {
        // Ids 0 to _nextId were handed out; those left in the callers' last blocks were never added.
        long unused = 0;
        foreach ((long from, long to) in _unused)
        {
            for (long id = from; id < to; id++)
            {
                if (sink.TimesSeen(id) != 0)
                {
                    throw new InvalidOperationException($"{implementation.Name} delivered id {id}, which no caller added.");
                }
            }

            unused += to - from;
        }

        long once = 0;
        for (long id = 0; id < _nextId; id++)
        {
            int seen = sink.TimesSeen(id);
            if (seen > 1)
            {
                throw new InvalidOperationException($"{implementation.Name} delivered request {id} {seen} times, not once.");
            }

            once += seen;
        }

        long made = _nextId - unused;
        if (once != made || sink.Processed != made)
        {
            throw new InvalidOperationException(
                $"{implementation.Name}: the callers made {made} requests, {once} reached the handler once, the handler saw {sink.Processed}.");
        }
    }

    protected override (double P50, double P99, double P999) LatencyPercentilesUs(BatchSink sink)
    {
        // The requests that completed before the deadline; unused ids and the tail are left out.
        var latencies = new long[_beforeDeadline.Sum()];
        int n = 0;
        for (long id = 0; id < _nextId; id++)
        {
            if (sink.TimesSeen(id) == 1 && sink.RecordedLatency(id) is >= 0 and long ticks)
            {
                latencies[n++] = ticks;
            }
        }

        return BatchSink.PercentilesUs(latencies.AsSpan(0, n));
    }

    private long RequestsMade()
    {
        long unused = 0;
        foreach ((long from, long to) in _unused)
        {
            unused += to - from;
        }

        return _nextId - unused;
    }

    private void SnapshotAtDeadline(long allocatedBefore, TimeSpan cpuBefore)
    {
        // Sleep most of the way, then wait on the high-resolution clock for the last few milliseconds.
        TimeSpan early = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _deadline) - TimeSpan.FromMilliseconds(20);
        if (early > TimeSpan.Zero)
        {
            Thread.Sleep(early);
        }

        Pacing.WaitUntil(_deadline);
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        long allocated = GC.GetTotalAllocatedBytes(true) - allocatedBefore;

        // The callers' counts are final once every caller is past the deadline; they are summed after the run.
        _atDeadline = new Window(0, Stopwatch.GetElapsedTime(_start, _deadline).TotalSeconds, allocated, cpu.TotalSeconds, _start, _deadline);
    }

    private async Task CallAsync(IBatchingImplementation implementation, BatchSink sink, Task go, int caller)
    {
        await go;
        long deadline = _deadline;
        long id = 0;
        long blockEnd = 0;
        long before = 0;
        while (true)
        {
            if (id == blockEnd)
            {
                blockEnd = Interlocked.Add(ref _nextId, IdBlock);
                id = blockEnd - IdBlock;
                if (blockEnd > Items)
                {
                    throw new InvalidOperationException(
                        $"{implementation.Name} ran past {MaxRequestsPerSecond:N0} requests/s: the sink of {Id} is too small for this run.");
                }
            }

            long start = Stopwatch.GetTimestamp();
            long result = await implementation.AddAndWaitAsync(id);
            long end = Stopwatch.GetTimestamp();
            if (result != id)
            {
                throw new InvalidOperationException($"{implementation.Name} returned {result} to the caller of request {id}.");
            }

            if (end >= deadline)
            {
                sink.RecordLatency(id, AfterDeadline);
                id++;
                break;
            }

            sink.RecordLatency(id, end - start);
            before++;
            id++;
        }

        _unused[caller] = (id, blockEnd);
        _beforeDeadline[caller] = before;
    }
}
