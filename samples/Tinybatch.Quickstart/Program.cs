// The README's quickstart, compiled and run: `dotnet run --project samples/Tinybatch.Quickstart`.
// Regions between "// <name>" and "// </name>" are copied verbatim into README.md; a test checks they match.
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Tinybatch;

// <quickstart>
// 1. Define your job and result types.
// 2. Write the batch function: result i belongs to job i.
static IReadOnlyList<JobResult> ProcessBatch(IReadOnlyList<Job> jobs, CancellationToken cancellationToken)
{
    Console.WriteLine($"processing a batch of {jobs.Count}");
    return jobs.Select(job => new JobResult(job.Id, job.Text.ToUpperInvariant())).ToList();
}

// 3. Create the batcher: a batch goes out at 100 jobs or after 1 second, whichever comes first.
var options = new BatcherOptions<Job, JobResult>
{
    MaxBatchSize = 100,
    MaxBatchDelay = TimeSpan.FromSeconds(1),
};
await using var batcher = new Batcher<Job, JobResult>(ProcessBatch, options);

// 4. Start it.
batcher.Start();

// 5. Add jobs: fire-and-forget for a stream of events...
for (int i = 0; i < 250; i++)
{
    await batcher.AddAsync(new Job(i, $"event {i}"));
}

// ...or add one and wait for its own result, as a dataloader does.
JobResult result = await batcher.AddAndWaitAsync(new Job(1000, "hello"));
Console.WriteLine($"job {result.Id}: {result.Output}");

// Stop accepting jobs and drain: every accepted job is processed before this returns.
await batcher.StopAsync();
Console.WriteLine($"succeeded: {batcher.Counters.Succeeded}");
// </quickstart>

// <callback>
// Fire-and-forget jobs lose nothing either: every finished batch reaches the callback with its outcomes.
var withCallback = new BatcherOptions<Job, JobResult>
{
    OnBatchCompleted = batch =>
    {
        for (int i = 0; i < batch.Count; i++)
        {
            JobOutcome<JobResult> outcome = batch.GetOutcome(i);
            if (outcome.Status == JobStatus.Failed)
            {
                Console.Error.WriteLine($"job {batch[i].Id} failed: {outcome.Exception!.Message}");
            }
        }
    },
};
// </callback>
await using (var second = new Batcher<Job, JobResult>(ProcessBatch, withCallback))
{
    second.Start();
    second.TryAdd(new Job(1, "one"));
    await second.FlushAsync();
}

// <stream-batch>
// Any async stream: a message consumer, a database cursor, a paged API. Here, 250 generated events.
static async IAsyncEnumerable<Job> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
{
    for (int i = 0; i < 250; i++)
    {
        await Task.Yield();
        yield return new Job(i, $"event {i}");
    }
}

// Batches of up to 100, or fewer once a batch's first event has waited 200 ms: no batcher to start or stop.
await foreach (IReadOnlyList<Job> batch in ReadEventsAsync().Batch(maxSize: 100, maxDelay: TimeSpan.FromMilliseconds(200)))
{
    Console.WriteLine($"stream batch of {batch.Count}, from event {batch[0].Id}");
}

// The same over a ChannelReader<T>: it takes an item from the channel only when the item joins a batch.
var channel = Channel.CreateBounded<Job>(1_000);
Task producer = Task.Run(async () =>
{
    for (int i = 0; i < 250; i++)
    {
        await channel.Writer.WriteAsync(new Job(i, $"event {i}"));
    }

    channel.Writer.Complete();
});
await foreach (IReadOnlyList<Job> batch in channel.Reader.Batch(100, TimeSpan.FromMilliseconds(200)))
{
    Console.WriteLine($"channel batch of {batch.Count}, from event {batch[0].Id}");
}

await producer;
// </stream-batch>

// <types>
internal sealed record Job(int Id, string Text);

internal sealed record JobResult(int Id, string Output);
// </types>
