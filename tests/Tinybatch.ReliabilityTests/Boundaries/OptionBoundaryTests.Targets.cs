using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Tinybatch.Extensions.Hosting;
using Tinybatch.Partitioning;
using Tinybatch.ReliabilityTests.Support;
using static Tinybatch.ReliabilityTests.Boundaries.BoundaryValues;

namespace Tinybatch.ReliabilityTests.Boundaries;

/// <summary>Building each target from a case, and adapting it to the one-job flow.</summary>
public sealed partial class OptionBoundaryTests
{
    private static TOptions Configure<TOptions>(TOptions options, OptionCase c, FakeTimeProvider time)
        where TOptions : BatcherOptions
    {
        options.MaxBatchDelay = TimeSpan.Zero;
        options.TimeProvider = time;
        c.Core?.Invoke(options);
        return options;
    }

    private static RetryPolicy? RetryOf(OptionCase c)
    {
        if (c.Retry is null)
        {
            return null;
        }

        var retry = new RetryPolicy();
        c.Retry(retry);
        return retry;
    }

    private static async Task RunBatcherAsync(OptionCase c, int mark)
    {
        var time = new FakeTimeProvider();
        var handler = new CountingHandler(c.RetryDelay is not null);
        BatcherOptions<int, int> options = Configure(new BatcherOptions<int, int>(), c, time);
        options.Retry = RetryOf(c);
        if (!c.Valid)
        {
            AssertRefused(c, () => _ = new Batcher<int, int>((batch, _) => handler.HandleAsync(batch), options));
            return;
        }

        var batcher = new Batcher<int, int>((batch, _) => handler.HandleAsync(batch), options);
        batcher.Start();
        await ProcessOneJobAsync(Of(batcher), handler, time, c, mark);
    }

    private static Subject Of(Batcher<int, int> batcher) => new()
    {
        Add = job => batcher.AddAndWaitAsync(job).AsTask(),
        Flush = () => batcher.FlushAsync(),
        Stop = batcher.StopAsync,
        Idle = batcher.WhenIdleAsync,
        Counters = () => batcher.Counters,
        IsStopped = () => batcher.State == BatcherState.Stopped,
    };

    private static async Task RunResultlessAsync(OptionCase c, int mark)
    {
        var time = new FakeTimeProvider();
        var handler = new CountingHandler(c.RetryDelay is not null);
        var outcomes = new ConcurrentDictionary<int, TaskCompletionSource>();
        TaskCompletionSource Outcome(int job) => outcomes.GetOrAdd(job, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
        BatcherOptions<int> options = Configure(new BatcherOptions<int>(), c, time);
        options.Retry = RetryOf(c);
        options.OnBatchCompleted = batch =>
        {
            for (int i = 0; i < batch.Count; i++)
            {
                if (batch.GetStatus(i) == JobStatus.Succeeded)
                {
                    Outcome(batch[i]).TrySetResult();
                }
            }
        };
        options.OnDeadLetter = letter => Outcome(letter.Job).TrySetException(letter.Exception);
        if (!c.Valid)
        {
            AssertRefused(c, () => _ = new Batcher<int>((batch, _) => handler.HandleAsync(batch), options));
            return;
        }

        var batcher = new Batcher<int>((batch, _) => handler.HandleAsync(batch), options);
        batcher.Start();
        await ProcessOneJobAsync(
            new Subject
            {
                Add = job => batcher.TryAdd(job) ? Outcome(job).Task : throw new InvalidOperationException("TryAdd refused the only job"),
                Flush = () => batcher.FlushAsync(),
                Stop = batcher.StopAsync,
                Idle = batcher.Engine.WhenIdleAsync,
                Counters = () => batcher.Counters,
                IsStopped = () => batcher.State == BatcherState.Stopped,
            },
            handler,
            time,
            c,
            mark);
    }

    private static async Task RunPartitionedAsync(OptionCase c, int mark)
    {
        var time = new FakeTimeProvider();
        var handler = new CountingHandler(retryFirstAttempt: false);
        var options = new PartitionedBatcherOptions<int, int, int> { Partition = Configure(new BatcherOptions<int, int>(), c, time) };
        c.Partition?.Invoke(options);
        if (!c.Valid)
        {
            AssertRefused(c, () => _ = new PartitionedBatcher<int, int, int>(j => j % 2, (_, batch, _) => handler.HandleAsync(batch), options));
            return;
        }

        var batcher = new PartitionedBatcher<int, int, int>(j => j % 2, (_, batch, _) => handler.HandleAsync(batch), options);
        batcher.Start();
        bool stopped = false;
        var subject = new Subject
        {
            Add = job => batcher.AddAndWaitAsync(job).AsTask(),
            Flush = () => batcher.FlushAsync(),
            Stop = async deadline =>
            {
                if (c.IdleTimeout is { } idle && Advanceable(idle) && !stopped)
                {
                    // The idle timeout works at this value: the partition retires once idle that long.
                    await batcher.WhenIdleAsync().Within(mark, "the partitions before the idle sweep");
                    time.Advance(idle + (idle / 2 > TimeSpan.FromMilliseconds(1) ? idle / 2 : TimeSpan.FromMilliseconds(1)));
                    await Contained.Until(() => batcher.PartitionsRetired == 1, mark, $"the retirement of the idle partition (IdleTimeout {c.Label})");
                }

                stopped = true;
                await batcher.StopAsync(deadline);
            },
            Idle = batcher.WhenIdleAsync,
            Counters = () => batcher.Counters,
            IsStopped = () => stopped && !batcher.TryAdd(8),
        };
        await ProcessOneJobAsync(subject, handler, time, c, mark);
    }

    private static async Task RunLoaderAsync(OptionCase c, int mark)
    {
        var time = new FakeTimeProvider();
        var handler = new CountingHandler(retryFirstAttempt: false);
        var options = new DataLoaderOptions<int> { MaxBatchDelay = TimeSpan.Zero, TimeProvider = time };
        c.Loader?.Invoke(options);
        Func<IReadOnlyList<int>, CancellationToken, ValueTask<IReadOnlyList<int>>> fetch = (keys, _) =>
        {
            handler.Called();
            return ValueTask.FromResult<IReadOnlyList<int>>([.. keys.Select(k => k * 10)]);
        };
        if (!c.Valid)
        {
            AssertRefused(c, () => _ = new DataLoader<int, int>(fetch, options));
            return;
        }

        var loader = new DataLoader<int, int>(fetch, options);
        bool disposed = false;
        await ProcessOneJobAsync(
            new Subject
            {
                Add = key => loader.LoadAsync(key),

                // A loader has no flush: disposing drains it, which fetches what is pending.
                Flush = () => { disposed = true; return loader.DisposeAsync().AsTask(); },
                Stop = _ => { disposed = true; return loader.DisposeAsync().AsTask(); },

                Idle = () => LoaderHooks.WhenIdleAsync(loader),
                Counters = () => loader.Counters,
                IsStopped = () => disposed,
            },
            handler,
            time,
            c,
            mark);
    }

    private static async Task RunHostingAsync(OptionCase c, int mark)
    {
        var time = new FakeTimeProvider();
        var handler = new CountingHandler(c.RetryDelay is not null);
        var settings = new Dictionary<string, string?> { ["B:MaxBatchDelay"] = "00:00:00" };
        foreach (KeyValuePair<string, string> setting in c.Config!)
        {
            settings["B:" + setting.Key] = setting.Value;
        }

        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddSingleton<TimeProvider>(time);
        services.AddBatcher<int, int>("b")
            .WithHandler((_, batch, _) => handler.HandleAsync(batch))
            .BindConfiguration("B");
        await using ServiceProvider provider = services.BuildServiceProvider();
        if (!c.Valid)
        {
            OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredKeyedService<Batcher<int, int>>("b"));
            Assert.Contains(ShortName(c.Option), ex.Message, StringComparison.Ordinal);
            return;
        }

        Batcher<int, int> batcher = provider.GetRequiredKeyedService<Batcher<int, int>>("b");
        batcher.Start();
        await ProcessOneJobAsync(Of(batcher), handler, time, c, mark);
    }
}
