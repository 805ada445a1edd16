using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;

namespace Tinybatch.Worker;

/// <summary>
/// Places orders for a few seconds, then stops the app. Orders are fire-and-forget; after every hundredth the producer
/// waits until all of them so far are stored, as a checkpoint would.
/// </summary>
public sealed class OrderProducer(
    [FromKeyedServices("orders")] IBatcher<Order> orders,
    OrderStore store,
    IHostApplicationLifetime lifetime,
    MeterProvider meters,
    RunOptions run) : BackgroundService
{
    private static readonly ActivitySource Source = new("Tinybatch.Worker");

    /// <summary>Gets the number of orders placed.</summary>
    public long Placed { get; private set; }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long end = Stopwatch.GetTimestamp() + (long)(run.Duration.TotalSeconds * Stopwatch.Frequency);
        try
        {
            while (!stoppingToken.IsCancellationRequested && Stopwatch.GetTimestamp() < end)
            {
                using (Source.StartActivity("place orders"))
                {
                    for (int i = 0; i < 100; i++)
                    {
                        await orders.AddAsync(new Order(++Placed, 10m + (Placed % 90)), stoppingToken);
                    }

                    await orders.FlushAsync(stoppingToken);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(2), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Ctrl+C: the batcher still drains whatever was accepted.
        }

        // Export once now, while the app runs, so the totals so far are printed next to the line above; the exporter
        // exports once more when the app stops and its MeterProvider is disposed.
        await orders.FlushAsync(CancellationToken.None);
        Console.WriteLine($"Placed {Placed} orders, stored {store.Stored} in {store.RoundTrips} round trips; the metrics so far:");
        meters.ForceFlush();
        lifetime.StopApplication();
    }
}
