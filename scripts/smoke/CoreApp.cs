// The core smoke app: a console app that references the Tinybatch package, as a user's would.
using Tinybatch;

var stored = new List<int>();
await using var events = new Batcher<int>(
    (batch, _) => { lock (stored) { stored.AddRange(batch); } return ValueTask.CompletedTask; },
    new BatcherOptions<int> { MaxBatchSize = 10, MaxBatchDelay = TimeSpan.FromMilliseconds(20) });
events.Start();
for (int i = 0; i < 95; i++)
{
    await events.AddAsync(i);
}

await using var lookups = new Batcher<int, string>((jobs, _) => ValueTask.FromResult<IReadOnlyList<string>>(jobs.Select(j => $"#{j}").ToList()));
lookups.Start();
string result = await lookups.AddAndWaitAsync(95);
await events.StopAsync();
await lookups.StopAsync();

bool ok = result == "#95" && stored.Count == 95 && events.Counters.Succeeded == 95 && events.Counters.Batches >= 10;
Console.WriteLine($"core smoke: {stored.Count} events in {events.Counters.Batches} batches, result {result}: {(ok ? "ok" : "FAILED")}");
return ok ? 0 : 1;
