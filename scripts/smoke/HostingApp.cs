// The hosting smoke app: a net8.0 host with Microsoft.Extensions.Hosting 8.0.x and the Tinybatch.Extensions.Hosting
// package, as a user's would be.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tinybatch;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Tinybatch:Orders:MaxBatchSize"] = "10" });
builder.Services
    .AddBatcher<int, string>()
    .WithHandler((_, jobs, _) => ValueTask.FromResult<IReadOnlyList<string>>(jobs.Select(j => $"receipt {j}").ToList()))
    .BindConfiguration("Tinybatch:Orders");

using IHost host = builder.Build();
await host.StartAsync();
IBatcher<int, string> orders = host.Services.GetRequiredService<IBatcher<int, string>>();
string[] receipts = await Task.WhenAll(Enumerable.Range(0, 25).Select(i => orders.AddAndWaitAsync(i).AsTask()));
await host.StopAsync(); // drains the batcher

bool ok = receipts[24] == "receipt 24" && orders.Counters.Succeeded == 25 && orders.State == BatcherState.Stopped;
Console.WriteLine($"hosting smoke ({Environment.Version}): {orders.Counters.Succeeded} receipts: {(ok ? "ok" : "FAILED")}");
return ok ? 0 : 1;
