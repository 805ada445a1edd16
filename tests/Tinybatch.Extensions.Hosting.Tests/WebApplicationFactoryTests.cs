using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Tinybatch.Extensions.Hosting.Tests;

/// <summary>
/// An ASP.NET Core app under <see cref="WebApplicationFactory{TEntryPoint}"/> (the in-memory test server), with its
/// batchers registered by the unnamed overloads and injected by interface, as application code would.
/// </summary>
public sealed class WebApplicationFactoryTests : IClassFixture<WebApplicationFactoryTests.OrdersApp>
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);
    private readonly OrdersApp _app;

    public WebApplicationFactoryTests(OrdersApp app) => _app = app;

    public sealed record Order(long Id);

    public sealed record Receipt(long OrderId);

    public sealed record PageView(string Path);

    public sealed class OrdersApp : WebApplicationFactory<OrdersApp>
    {
        public List<string> Views { get; } = [];

        // The app has no project of its own, so its content root is this assembly's folder.
        protected override void ConfigureWebHost(IWebHostBuilder builder) => builder.UseContentRoot(AppContext.BaseDirectory);

        protected override IHostBuilder CreateHostBuilder() =>
            Host.CreateDefaultBuilder().ConfigureWebHostDefaults(web => web
                .ConfigureServices(services =>
                {
                    services.AddRouting();
                    services.AddBatcher<Order, Receipt>(o => o.MaxBatchDelay = TimeSpan.FromMilliseconds(5))
                        .WithHandler((sp, orders, ct) =>
                            ValueTask.FromResult<IReadOnlyList<Receipt>>([.. orders.Select(o => new Receipt(o.Id))]));
                    services.AddBatcher<PageView>(o => o.MaxBatchDelay = TimeSpan.FromMilliseconds(5))
                        .WithHandler((sp, views, ct) =>
                        {
                            lock (Views)
                            {
                                Views.AddRange(views.Select(v => v.Path));
                            }

                            return ValueTask.CompletedTask;
                        });
                })
                .Configure(app => app
                    .UseRouting()
                    .UseEndpoints(endpoints =>
                    {
                        endpoints.MapPost("/orders", async (Order order, IBatcher<Order, Receipt> orders, CancellationToken ct) =>
                            await orders.AddAndWaitAsync(order, ct));
                        endpoints.MapGet("/pages/{name}", (string name, IBatcher<PageView> views) =>
                            views.TryAdd(new PageView("/pages/" + name)) ? Results.Ok() : Results.StatusCode(503));
                    })));
    }

    [Fact]
    public async Task Post_ConcurrentRequests_EachGetsItsOwnReceiptFromSharedBatches()
    {
        using HttpClient client = _app.CreateClient();

        Receipt?[] receipts = await Task.WhenAll(Enumerable.Range(1, 50).Select(async i =>
        {
            HttpResponseMessage response = await client.PostAsJsonAsync("/orders", new Order(i));
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadFromJsonAsync<Receipt>();
        })).WaitAsync(Guard);

        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), receipts.Select(r => r!.OrderId));
        Batcher<Order, Receipt> batcher = _app.Services.GetRequiredService<Batcher<Order, Receipt>>();
        Assert.Equal(BatcherState.Running, batcher.State); // the factory's host started it
        Assert.True(batcher.Counters.Batches < 50, "concurrent requests share batches");
    }

    [Fact]
    public async Task Get_PageViews_RecordedByTheResultlessBatcher()
    {
        using HttpClient client = _app.CreateClient();

        for (int i = 0; i < 5; i++)
        {
            (await client.GetAsync(new Uri($"/pages/p{i}", UriKind.Relative))).EnsureSuccessStatusCode();
        }

        await _app.Services.GetRequiredService<IBatcher<PageView>>().FlushAsync().WaitAsync(Guard);
        lock (_app.Views)
        {
            Assert.Equal(Enumerable.Range(0, 5).Select(i => $"/pages/p{i}"), _app.Views.Order());
        }
    }
}
