using System.Diagnostics;

namespace Tinybatch.Benchmarks.Diagnostics;

/// <summary>
/// S3's shape (1,000 callers, each awaiting its own result before its next request, batch size 100, delay 10 ms) with
/// a trace of the batches: how many were cut short, and when. Callers that drift apart in rounds leave a tail of
/// partial batches at the end of the run, each waiting for the delay in Fixed mode; the spread in rounds is how far
/// the slowest caller fell behind the fastest.
/// </summary>
internal static class FairnessDiag
{
    private const int Callers = 1000;
    private const long Requests = 500_000;

    public static async Task RunAsync()
    {
        foreach (BatchingMode mode in new[] { BatchingMode.Fixed, BatchingMode.Adaptive, BatchingMode.Fixed, BatchingMode.Adaptive })
        {
            await RunOnceAsync(mode);
        }
    }

    private static async Task RunOnceAsync(BatchingMode mode)
    {
        var batches = new List<(int Size, double AtMs)>();
        var clock = Stopwatch.StartNew();
        await using var batcher = new Batcher<long, long>(
            (batch, _) =>
            {
                batches.Add((batch.Count, clock.Elapsed.TotalMilliseconds));
                for (int i = 0; i < batch.Count; i++)
                {
                    batch.SetResult(i, batch[i]);
                }

                return default;
            },
            new BatcherOptions<long, long>
            {
                MaxBatchSize = 100,
                MaxBatchDelay = TimeSpan.FromMilliseconds(10),
                Mode = mode,
                Capacity = 1 << 16,
            });
        batcher.Start();
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = new double[Callers];
        Task[] callers = Enumerable.Range(0, Callers).Select(c => CallAsync(c)).ToArray();

        async Task CallAsync(int caller)
        {
            await go.Task;
            for (long id = caller; id < Requests; id += Callers)
            {
                if (await batcher.AddAndWaitAsync(id) != id)
                {
                    throw new InvalidOperationException($"Request {id} got another request's result.");
                }
            }

            finished[caller] = clock.Elapsed.TotalMilliseconds;
        }

        clock.Restart();
        go.SetResult();
        await Task.WhenAll(callers);
        double seconds = clock.Elapsed.TotalSeconds;
        await batcher.StopAsync();

        Array.Sort(finished);
        int partial = batches.Count(b => b.Size < 100);
        double firstShort = batches.FirstOrDefault(b => b.Size < 100).AtMs;
        Console.WriteLine(
            $"{mode,-8} {Requests / seconds,12:N0} requests/s  batches {batches.Count,7:N0}  cut short {partial,7:N0}  " +
            $"callers finished between {finished[0],6:F0} and {finished[^1],6:F0} ms" +
            (mode == BatchingMode.Fixed ? $"  (first short batch at {firstShort:F0} ms)" : ""));
    }
}
