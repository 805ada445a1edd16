using System.Collections.Concurrent;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Tinybatch.Extensions.Hosting;

namespace Tinybatch.Extensions.Hosting.Tests;

/// <summary>The README's ASP.NET Core example, run for real on Kestrel.</summary>
public sealed class WebAppTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    public sealed record Order(long Id, decimal Amount);

    public sealed record Receipt(long OrderId, long Sequence);

    /// <summary>Stands in for the database; scoped like a DbContext.</summary>
    public sealed class OrderStore
    {
        private static long s_sequence;

        public static ConcurrentBag<long> Stored { get; } = [];

        public Task<Receipt[]> InsertAsync(IReadOnlyList<Order> orders, CancellationToken cancellationToken)
        {
            foreach (Order order in orders)
            {
                Stored.Add(order.Id);
            }

            return Task.FromResult(orders.Select(o => new Receipt(o.Id, Interlocked.Increment(ref s_sequence))).ToArray());
        }
    }

    // <hosting-handler>
    public sealed class OrderBatchHandler(OrderStore store) : IBatchHandler<Order, Receipt>
    {
        public async ValueTask HandleAsync(Batch<Order, Receipt> batch, CancellationToken cancellationToken)
        {
            Receipt[] receipts = await store.InsertAsync(batch, cancellationToken); // one round trip per batch
            batch.SetResults(receipts);                                               // receipt i for order i
        }
    }
    // </hosting-handler>

    private static WebApplication BuildApp(string[] args)
    {
        // <hosting-app>
        WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
        builder.Services.AddScoped<OrderStore>();
        builder.Services
            .AddBatcher<Order, Receipt>("orders")
            .WithHandler<OrderBatchHandler>()        // resolved from a new scope for each batch
            .BindConfiguration("Tinybatch:Orders");  // validated when the host starts

        WebApplication app = builder.Build();
        app.MapPost("/orders", async (Order order, [FromKeyedServices("orders")] IBatcher<Order, Receipt> orders, CancellationToken ct) =>
            await orders.AddAndWaitAsync(order, ct));
        // </hosting-app>
        return app;
    }

    [Fact]
    public async Task WebApp_ConcurrentRequestsThenStop_EveryOrderStoredOnceAndEveryRequestGetsItsReceipt()
    {
        const int Requests = 200;
        long firstId = Random.Shared.NextInt64(1, long.MaxValue / 2);
        await using WebApplication app = BuildApp(["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default", "Warning"]);
        app.Configuration["Tinybatch:Orders:MaxBatchSize"] = "32";
        app.Configuration["Tinybatch:Orders:MaxBatchDelay"] = "00:00:00.010";
        await app.StartAsync().WaitAsync(Guard);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient { BaseAddress = new Uri(address) };

        Receipt?[] receipts = await Task.WhenAll(Enumerable.Range(0, Requests).Select(async i =>
        {
            HttpResponseMessage response = await client.PostAsJsonAsync("/orders", new Order(firstId + i, 10m));
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadFromJsonAsync<Receipt>();
        })).WaitAsync(Guard);
        Batcher<Order, Receipt> batcher = app.Services.GetRequiredKeyedService<Batcher<Order, Receipt>>("orders");
        await app.StopAsync().WaitAsync(Guard);

        Assert.Equal(Enumerable.Range(0, Requests).Select(i => firstId + i), receipts.Select(r => r!.OrderId));
        long[] stored = [.. OrderStore.Stored.Where(id => id >= firstId && id < firstId + Requests)];
        Assert.Equal(Requests, stored.Length);
        Assert.Equal(Requests, stored.Distinct().Count());
        Assert.Equal(BatcherState.Stopped, batcher.State);
        Assert.True(batcher.Counters.Batches < Requests, "concurrent requests share batches");
    }
}
