// The core smoke app: a console app that references the Tinybatch package, as a user's would.
using Tinybatch;

var batches = 0;
await using var batcher = new Batcher<int, string>(
    (jobs, _) => { Interlocked.Increment(ref batches); return ValueTask.FromResult<IReadOnlyList<string>>(jobs.Select(j => $"#{j}").ToList()); },
    new BatcherOptions<int, string> { MaxBatchSize = 10, MaxBatchDelay = TimeSpan.FromMilliseconds(20) });
batcher.Start();

for (int i = 0; i < 95; i++)
{
    await batcher.AddAsync(i);
}

string result = await batcher.AddAndWaitAsync(95);
await batcher.StopAsync();

BatcherCounters counters = batcher.Counters;
bool ok = result == "#95" && counters.Succeeded == 96 && batches >= 10;
Console.WriteLine($"core smoke: {counters.Succeeded} jobs in {batches} batches, result {result}: {(ok ? "ok" : "FAILED")}");
return ok ? 0 : 1;
