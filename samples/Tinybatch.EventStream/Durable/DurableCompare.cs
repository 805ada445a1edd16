using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tinybatch.Durable;

namespace Tinybatch.EventStream.Durable;

/// <summary>
/// <c>--durable DIR --compare</c>: the same events through the in-memory batcher, the durable batcher (fsync and flush
/// group commit) and a naive journal that fsyncs every event before adding it, into the same kind of idempotent sink,
/// in one run. Prints events/s and add latency (p50, p99) per mode, and the ratios the README and PERFORMANCE cite.
/// </summary>
internal static class DurableCompare
{
    private const long NaiveMaxEvents = 20_000;
    private static readonly TimeSpan NaiveBudget = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(DurableDemoOptions options, TextWriter output, CancellationToken stop)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"durable compare: {options.Events:N0} events, {options.Producers} producers, MaxBatchSize={options.BatchSize}, MaxBatchDelay={options.Delay.TotalMilliseconds:F0}ms"));
        Task<(Func<DurableEvent, CancellationToken, ValueTask> Add, Func<ValueTask> Close)> InMemory(IIdempotentSink sink)
        {
            var batcher = new Batcher<DurableEvent>((batch, ct) => sink.WriteAsync(batch.ToArray(), ct), CoreOptions(options, sink));
            batcher.Start();
            return Task.FromResult<(Func<DurableEvent, CancellationToken, ValueTask>, Func<ValueTask>)>(((e, ct) => batcher.AddAsync(e, ct), () => batcher.DisposeAsync()));
        }

        // Warm-up (not reported): the first mode would otherwise pay for JIT compilation and the store's first pages.
        await MeasureAsync("warmup", options, Math.Min(options.Events, 20_000), TimeSpan.MaxValue, InMemory, stop);
        await MeasureAsync("warmup", options, Math.Min(options.Events, 20_000), TimeSpan.MaxValue, sink => Durable(options, sink, JournalCommitMode.Fsync), stop);
        var memory = await MeasureAsync("memory", options, options.Events, TimeSpan.MaxValue, InMemory, stop);
        var fsync = await MeasureAsync("durable-fsync", options, options.Events, TimeSpan.MaxValue, sink => Durable(options, sink, JournalCommitMode.Fsync), stop);
        var flush = await MeasureAsync("durable-flush", options, options.Events, TimeSpan.MaxValue, sink => Durable(options, sink, JournalCommitMode.Flush), stop);
        var naive = await MeasureAsync("naive-fsync-per-event", options, Math.Min(options.Events, NaiveMaxEvents), NaiveBudget, async sink =>
        {
            string path = Path.Combine(options.Directory, "naive.journal");
            File.Delete(path);
            var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);
            var gate = new SemaphoreSlim(1, 1);
            var batcher = new Batcher<DurableEvent>((batch, ct) => sink.WriteAsync(batch.ToArray(), ct), CoreOptions(options, sink));
            batcher.Start();
            return (async (e, ct) =>
            {
                byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(e, DurableEventJson.Default.DurableEvent);
                await gate.WaitAsync(ct);
                try
                {
                    file.Write(bytes);
                    file.Flush(flushToDisk: true);
                }
                finally
                {
                    gate.Release();
                }

                await batcher.AddAsync(e, ct);
            }, async () =>
            {
                await batcher.DisposeAsync();
                await file.DisposeAsync();
            }
            );
        }, stop);

        foreach (var r in new[] { memory, fsync, flush, naive })
        {
            output.WriteLine(string.Create(inv, $"durable compare: mode={r.Mode} events={r.Events} events/s={r.EventsPerSecond:F0} add_p50={r.P50Us:F0}us add_p99={r.P99Us:F0}us rows={r.Rows}"));
        }

        output.WriteLine(string.Create(inv,
            $"durable: fsync group commit {fsync.EventsPerSecond / memory.EventsPerSecond:P0} of in-memory (target >= 50%), {fsync.EventsPerSecond / naive.EventsPerSecond:F1}x the naive fsync-per-event journal (target >= 20x); flush {flush.EventsPerSecond / memory.EventsPerSecond:P0} of in-memory"));
        bool complete = new[] { memory, fsync, flush, naive }.All(r => r.Rows == r.Events);
        return complete ? 0 : 1;
    }

    private static async Task<(Func<DurableEvent, CancellationToken, ValueTask> Add, Func<ValueTask> Close)> Durable(DurableDemoOptions options, IIdempotentSink sink, JournalCommitMode mode)
    {
        string dir = Path.Combine(options.Directory, "compare-" + mode.ToString().ToLowerInvariant());
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        var batcher = new DurableBatcher<DurableEvent>((batch, ct) => DurableDemo.WriteAsync(sink, batch, ct), DurableDemo.BatcherOptions(options, dir, mode, sink));
        batcher.Start();
        await Task.CompletedTask;
        return ((e, ct) => batcher.AddAsync(e, ct), () => batcher.DisposeAsync());
    }

    private static BatcherOptions<DurableEvent> CoreOptions(DurableDemoOptions options, IIdempotentSink sink) => new()
    {
        MaxBatchSize = options.BatchSize,
        MaxBatchDelay = options.Delay,
        Capacity = Math.Max(4 * options.BatchSize, 4000),
        MaxConcurrentBatches = sink.MaxConcurrentWriters,
    };

    private static async Task<Result> MeasureAsync(string mode, DurableDemoOptions options, long events, TimeSpan budget,
        Func<IIdempotentSink, Task<(Func<DurableEvent, CancellationToken, ValueTask> Add, Func<ValueTask> Close)>> open, CancellationToken stop)
    {
        await using var sink = options.CreateSink("durable_compare_" + mode.Replace('-', '_'));
        await sink.InitializeAsync(reset: true);
        var (add, close) = await open(sink);
        var latencies = new long[events];
        long recorded = 0;
        using var budgetStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
        if (budget != TimeSpan.MaxValue)
        {
            budgetStop.CancelAfter(budget);
        }

        long started = Stopwatch.GetTimestamp();
        await DurableDemo.ProduceAsync(options.Producers, 1, events, async (e, ct) =>
        {
            long t0 = Stopwatch.GetTimestamp();
            await add(e, ct);
            latencies[Interlocked.Increment(ref recorded) - 1] = Stopwatch.GetTimestamp() - t0;
        }, budgetStop.Token);
        await close();
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        long n = Interlocked.Read(ref recorded);
        Array.Sort(latencies, 0, (int)n);
        double Us(double p) => n == 0 ? 0 : latencies[Math.Min(n - 1, (long)(p / 100 * n))] * 1e6 / Stopwatch.Frequency;
        return new Result(mode, n, n / seconds, Us(50), Us(99), await sink.CountAsync());
    }

    private sealed record Result(string Mode, long Events, double EventsPerSecond, double P50Us, double P99Us, long Rows);
}
