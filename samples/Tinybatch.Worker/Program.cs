// The worker-service sample: a batcher registered with AddBatcher, its options bound from appsettings.json, a producer
// that places orders for a few seconds, and OpenTelemetry's console exporter printing the Tinybatch metrics at exit.
// Run: dotnet run --project samples/Tinybatch.Worker -- --seconds 5   (add --traces to print one span per batch)
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Tinybatch;
using Tinybatch.Worker;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory, // appsettings.json is copied next to the binary
});

int seconds = int.TryParse(builder.Configuration["seconds"], NumberStyles.Integer, CultureInfo.InvariantCulture, out int s) ? s : 5;
bool traces = args.Contains("--traces");
builder.Services.AddSingleton(new RunOptions(TimeSpan.FromSeconds(seconds)));
builder.Services.AddSingleton<OrderStore>();

// The batcher: result-less (an order has nothing to return), keyed "orders", handler resolved per batch, settings from the "Tinybatch:Orders" section, validated at
// startup, started with the host and drained when it stops.
builder.Services
    .AddBatcher<Order>("orders")
    .WithHandler<OrderBatchHandler>()
    .BindConfiguration("Tinybatch:Orders");

builder.Services.AddHostedService<OrderProducer>();

// <hosting-otel>
OpenTelemetry.OpenTelemetryBuilder otel = builder.Services.AddOpenTelemetry()
    .WithMetrics(metrics => metrics
        .AddMeter(TinybatchTelemetry.MeterName)
        .AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 60_000));
if (traces)
{
    otel.WithTracing(tracing => tracing
        .AddSource(TinybatchTelemetry.ActivitySourceName, "Tinybatch.Worker")
        .AddConsoleExporter());
}
// </hosting-otel>

using IHost host = builder.Build();
await host.RunAsync();
