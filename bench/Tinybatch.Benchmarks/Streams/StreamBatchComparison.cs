using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Tinybatch.Benchmarks.Compare;

namespace Tinybatch.Benchmarks.Streams;

/// <summary>
/// The <c>compare</c> scenario B1, "Batching a stream": one producer writes items into a bounded channel as fast as it
/// can, and each operator turns the channel into batches of at most 100, or fewer after 10 ms, for one consumer loop.
/// Rounds interleave the operators; the figures are medians. Before it, a behaviour check in real time: does a lone
/// item's partial batch go out after the delay, on every batch, and does a source's error lose the partial batch?
/// </summary>
internal static class StreamBatchComparison
{
    public const string Id = "B1";
    private const int BatchSize = 100;
    private const int ChannelCapacity = 10_000;
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan CheckDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);
    private static readonly System.Globalization.CultureInfo Invariant = System.Globalization.CultureInfo.InvariantCulture;

    /// <summary>
    /// The <c>compare</c> command: the batcher scenarios unless <c>--scenario</c> names only B1, then B1 unless
    /// <c>--scenario</c> leaves it out. <c>--impl</c> applies to the batcher scenarios only.
    /// </summary>
    public static async Task<int> RunCompareAsync(string[] args, Func<IReadOnlyList<string>, Task<int>> batcherScenarios)
    {
        CompareOptions options = CompareOptions.Parse(args);
        bool onlyStream = options.OnlyScenarios.Count > 0 && options.OnlyScenarios.All(s => s.Equals(Id, StringComparison.OrdinalIgnoreCase));
        bool stream = options.OnlyScenarios.Count == 0 || options.OnlyScenarios.Contains(Id);
        int exit = onlyStream ? 0 : await batcherScenarios(args);
        return stream ? exit | await RunAsync(options) : exit;
    }

    private static async Task<int> RunAsync(CompareOptions options)
    {
        long items = options.Quick ? 2_000_000 : 10_000_000;
        var total = Stopwatch.StartNew();
        Console.WriteLine();
        Console.WriteLine($"{Id}: batching a stream (one producer, bounded channel of {ChannelCapacity:N0}, batch size {BatchSize}, delay {Delay.TotalMilliseconds} ms), {items:N0} items per run");

        List<string> behaviour = [];
        foreach (StreamBatcher batcher in StreamBatchers.All)
        {
            behaviour.Add(await CheckBehaviourAsync(batcher));
        }

        StreamBatcher[] measured = StreamBatchers.All.Where(b => b.Measured).ToArray();
        var runs = measured.ToDictionary(b => b.Name, _ => new List<StreamRun>());
        var failures = new Dictionary<string, string>();
        for (int round = 0; round <= options.Rounds; round++)
        {
            foreach (StreamBatcher batcher in measured)
            {
                try
                {
                    StreamRun run = await RunOnceAsync(batcher, round == 0 ? items / 10 : items);
                    Console.WriteLine(
                        $"  {(round == 0 ? "warm-up" : $"round {round}"),-8} {batcher.Name,-46} {run.ItemsPerSecond,14:N0}/s " +
                        $"{run.BytesPerItem,8:F1} B/item  cpu {run.CpuNsPerItem,6:F0} ns/item  batch {run.MeanBatch,6:F1}");
                    if (round > 0)
                    {
                        runs[batcher.Name].Add(run);
                    }
                }
                catch (Exception ex)
                {
                    Console.Error.WriteLine($"  FAILED {batcher.Name}: {ex}");
                    failures.TryAdd(batcher.Name, $"{ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}");
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine(Markdown(measured, runs, failures, behaviour, options, total.Elapsed));
        return failures.Count == 0 ? 0 : 1;
    }

    private static async Task<StreamRun> RunOnceAsync(StreamBatcher batcher, long items)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Channel<long> channel = Channel.CreateBounded<long>(new BoundedChannelOptions(ChannelCapacity) { SingleReader = true, SingleWriter = true });
        long count = 0;
        long sum = 0;
        long batches = 0;
        long allocatedBefore = GC.GetTotalAllocatedBytes(true);
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();

        Task consumer = Task.Run(() => batcher.Run(channel.Reader, BatchSize, Delay, batch =>
        {
            for (int i = 0; i < batch.Count; i++)
            {
                sum += batch[i];
            }

            count += batch.Count;
            batches++;
            return ValueTask.CompletedTask;
        }));
        Task producer = Task.Run(async () =>
        {
            ChannelWriter<long> writer = channel.Writer;
            for (long i = 0; i < items; i++)
            {
                if (!writer.TryWrite(i))
                {
                    await writer.WriteAsync(i);
                }
            }

            writer.Complete();
        });
        await Task.WhenAll(producer, consumer).WaitAsync(HangGuard);

        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        long allocated = GC.GetTotalAllocatedBytes(true) - allocatedBefore;
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        if (count != items || sum != items * (items - 1) / 2)
        {
            throw new InvalidOperationException($"{batcher.Name} delivered {count:N0} items (sum {sum}) of {items:N0}: lost or duplicated items.");
        }

        return new StreamRun(items / elapsed.TotalSeconds, (double)allocated / items, cpu.TotalSeconds * 1e9 / items, (double)count / batches);
    }

    /// <summary>Three lone items, each after the previous batch went out; then two items and the channel's error.</summary>
    private static async Task<string> CheckBehaviourAsync(StreamBatcher batcher)
    {
        Channel<long> channel = Channel.CreateUnbounded<long>();
        Channel<(long At, IReadOnlyList<long> Batch)> seen = Channel.CreateUnbounded<(long, IReadOnlyList<long>)>();
        Task consumer = Task.Run(() => batcher.Run(channel.Reader, BatchSize, CheckDelay, batch =>
        {
            seen.Writer.TryWrite((Stopwatch.GetTimestamp(), batch.ToArray()));
            return ValueTask.CompletedTask;
        }));

        var latencies = new List<string>();
        for (long item = 1; item <= 3; item++)
        {
            long written = Stopwatch.GetTimestamp();
            channel.Writer.TryWrite(item);
            (long At, IReadOnlyList<long> Batch)? next = await NextAsync(seen.Reader, TimeSpan.FromSeconds(1));
            latencies.Add(next is { } b ? $"{Stopwatch.GetElapsedTime(written, b.At).TotalMilliseconds:F0}" : "none in 1 s");
        }

        var error = new InvalidOperationException("source failed");
        channel.Writer.TryWrite(101);
        channel.Writer.TryWrite(102);
        channel.Writer.Complete(error);
        bool surfaced;
        try
        {
            await consumer.WaitAsync(TimeSpan.FromSeconds(5));
            surfaced = false;
        }
        catch (Exception ex)
        {
            // Some operators wrap it (Open.ChannelExtensions: AggregateException in AggregateException): look inside.
            surfaced = ex is AggregateException aggregate ? aggregate.Flatten().InnerExceptions.Contains(error) : ReferenceEquals(ex, error) || ex.InnerException == error;
        }

        seen.Writer.Complete();
        var delivered = new List<long>();
        await foreach ((_, IReadOnlyList<long> batch) in seen.Reader.ReadAllAsync())
        {
            delivered.AddRange(batch.Where(i => i > 100));
        }

        string partial = delivered.Count == 2 ? "yielded" : delivered.Count == 0 ? "**lost**" : $"{delivered.Count} of 2 yielded";
        return string.Create(Invariant, $"| {batcher.Name} | {string.Join(", ", latencies)} | {partial} | {(surfaced ? "yes" : "**no**")} |");
    }

    private static async Task<(long At, IReadOnlyList<long> Batch)?> NextAsync(ChannelReader<(long At, IReadOnlyList<long> Batch)> reader, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private static string Markdown(
        StreamBatcher[] measured,
        Dictionary<string, List<StreamRun>> runs,
        Dictionary<string, string> failures,
        List<string> behaviour,
        CompareOptions options,
        TimeSpan elapsed)
    {
        var md = new StringBuilder();
        md.AppendLine(Invariant, $"B1, medians of {options.Rounds} interleaved rounds; batch size {BatchSize}, delay {Delay.TotalMilliseconds} ms; took {elapsed.TotalSeconds:F0} s.");
        md.AppendLine();
        md.AppendLine("| Operator | items/s | CPU ns/item | B/item | mean batch |");
        md.AppendLine("|---|---:|---:|---:|---:|");
        foreach (StreamBatcher batcher in measured)
        {
            if (failures.TryGetValue(batcher.Name, out string? failure))
            {
                md.AppendLine(Invariant, $"| {batcher.Name} | **FAILED**: {failure.Replace('|', '/')} | | | |");
                continue;
            }

            List<StreamRun> r = runs[batcher.Name];
            md.AppendLine(Invariant,
                $"| {batcher.Name} | {Median(r, x => x.ItemsPerSecond):N0} | {Median(r, x => x.CpuNsPerItem):F0} | {Median(r, x => x.BytesPerItem):F1} | {Median(r, x => x.MeanBatch):F1} |");
        }

        md.AppendLine();
        md.AppendLine(Invariant, $"Behaviour, real time, delay {CheckDelay.TotalMilliseconds} ms: three lone items one after another, then two items and the channel's error.");
        md.AppendLine();
        md.AppendLine("| Operator | ms from each lone item to its batch | the two items before the error | error surfaced (possibly wrapped) |");
        md.AppendLine("|---|---|---|---|");
        foreach (string row in behaviour)
        {
            md.AppendLine(row);
        }

        return md.ToString();
    }

    private static double Median(List<StreamRun> runs, Func<StreamRun, double> figure)
    {
        double[] values = runs.Select(figure).Order().ToArray();
        int middle = values.Length / 2;
        return values.Length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    private sealed record StreamRun(double ItemsPerSecond, double BytesPerItem, double CpuNsPerItem, double MeanBatch);
}
