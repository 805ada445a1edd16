using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Tinybatch.Extensions.Hosting.Internal;

/// <summary>
/// Starts a batcher before any hosted service starts and drains it after every hosted service has stopped, so producers
/// (background services, the web server's requests) can add jobs for their whole life, in whatever order they were
/// registered. The drain's deadline is the host's shutdown timeout: the token the host passes to the stop phases.
/// The batcher is resolved when the host starts, not when the host resolves its hosted services: by then the host has
/// validated every batcher's options, so invalid options of several batchers are reported together.
/// </summary>
/// <param name="services">The app's services.</param>
/// <param name="registration">The batcher's registration: the key of its monitor.</param>
/// <param name="resolve">Resolves the batcher.</param>
internal sealed class BatcherHostedService<TJob>(
    IServiceProvider services, BatcherRegistration registration, Func<IServiceProvider, BatcherLifecycle> resolve) : IHostedLifecycleService
{
    private BatcherLifecycle? _batcher;
    private BatcherMonitor<TJob>? _monitor;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _batcher = resolve(services);
        _monitor = services.GetRequiredKeyedService<BatcherMonitor<TJob>>(registration);
        _batcher.Start();
        BatcherLog.Started(_monitor.Logger, registration.Name);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (_batcher is not { } batcher || _monitor is not { } monitor)
        {
            return; // the host never started
        }

        BatcherCounters before = batcher.Counters();
        BatcherLog.Draining(monitor.Logger, batcher.Name, before.Pending, before.InFlight);
        long started = Stopwatch.GetTimestamp();

        // When the host's token fires (its shutdown timeout), the core fails every job left with BatcherStoppedException
        // and returns: nothing hangs and nothing is lost without a trace.
        await batcher.StopAsync(cancellationToken).ConfigureAwait(false);

        long elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        monitor.Report();
        long abandoned = monitor.TakeStoppedCount();
        BatcherCounters after = batcher.Counters();
        if (abandoned > 0)
        {
            BatcherLog.ShutdownTimedOut(monitor.Logger, batcher.Name, abandoned, elapsedMs);
        }
        else
        {
            BatcherLog.Drained(monitor.Logger, batcher.Name, elapsedMs, after.Succeeded, after.Failed, after.Dropped, after.Rejected);
        }
    }
}
