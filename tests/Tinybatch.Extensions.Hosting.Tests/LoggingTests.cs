using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Tinybatch.Extensions.Hosting;

namespace Tinybatch.Extensions.Hosting.Tests;

public sealed class LoggingTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private static ServiceProvider Build(FakeTimeProvider time, Action<IServiceCollection> register)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddLogging(b => b.AddFakeLogging());
        register(services);
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task HandlerThrows_LogsOneErrorPerFailedBatchWithIdAndSize()
    {
        var time = new FakeTimeProvider();
        int userCallbacks = 0;
        await using ServiceProvider provider = Build(time, s => s
            .AddBatcher<int, int>("failing", o =>
            {
                o.MaxBatchSize = 3;
                o.MaxBatchDelay = Timeout.InfiniteTimeSpan;
                o.OnBatchCompleted = _ => Interlocked.Increment(ref userCallbacks);
            })
            .WithHandler((IServiceProvider sp, IReadOnlyList<int> jobs, CancellationToken ct) => throw new InvalidOperationException("database down")));
        Batcher<int, int> batcher = provider.GetRequiredService<Batcher<int, int>>();
        batcher.Start();

        for (int i = 0; i < 6; i++)
        {
            await batcher.AddAsync(i);
        }

        await batcher.FlushAsync().WaitAsync(Guard);

        FakeLogRecord[] errors = [.. provider.GetFakeLogCollector().GetSnapshot().Where(r => r.Id.Name == "BatchHandlerFailed")];
        Assert.Equal(2, errors.Length);
        Assert.All(errors, r =>
        {
            Assert.Equal(LogLevel.Error, r.Level);
            Assert.Equal("failing", r.GetStructuredStateValue("BatcherName"));
            Assert.Equal("3", r.GetStructuredStateValue("JobCount"));
            Assert.IsType<InvalidOperationException>(r.Exception);
        });
        Assert.Equal(["1", "2"], errors.Select(r => r.GetStructuredStateValue("BatchId")).Order());
        Assert.Equal(2, Volatile.Read(ref userCallbacks));
    }

    [Fact]
    public async Task DeadLetters_BurstOfDrops_OneWarningPerIntervalWithTheCount()
    {
        var time = new FakeTimeProvider();
        int userDeadLetters = 0;
        var eightSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var elevenSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using ServiceProvider provider = Build(time, s => s
            .AddBatcher<int, int>("lossy", o =>
            {
                o.MaxBatchSize = 2;
                o.Capacity = 2;
                o.OverflowPolicy = OverflowPolicy.DropWrite;
                o.OnDeadLetter = _ =>
                {
                    // Refusals reach the callbacks on the thread pool, not on the producer: wait for them.
                    switch (Interlocked.Increment(ref userDeadLetters))
                    {
                        case 8: eightSeen.TrySetResult(); break;
                        case 11: elevenSeen.TrySetResult(); break;
                    }
                };
            })
            .WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs)));
        Batcher<int, int> batcher = provider.GetRequiredService<Batcher<int, int>>(); // not started: the buffer stays full
        FakeLogCollector logs = provider.GetFakeLogCollector();

        for (int i = 0; i < 10; i++)
        {
            await batcher.AddAsync(i);
        }

        await eightSeen.Task.WaitAsync(Guard);
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Id.Name == "JobsDeadLettered");
        time.Advance(TimeSpan.FromSeconds(1));
        FakeLogRecord first = Assert.Single(logs.GetSnapshot(), r => r.Id.Name == "JobsDeadLettered");
        Assert.Equal(LogLevel.Warning, first.Level);
        Assert.Equal("8", first.GetStructuredStateValue("JobCount"));
        Assert.Equal("Dropped", first.GetStructuredStateValue("Reason"));
        Assert.IsType<JobDroppedException>(first.Exception);

        for (int i = 0; i < 3; i++)
        {
            await batcher.AddAsync(i);
        }

        await elevenSeen.Task.WaitAsync(Guard);
        time.Advance(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(1));
        FakeLogRecord[] all = [.. logs.GetSnapshot().Where(r => r.Id.Name == "JobsDeadLettered")];
        Assert.Equal(2, all.Length);
        Assert.Equal("3", all[1].GetStructuredStateValue("JobCount"));
        Assert.Equal(11, Volatile.Read(ref userDeadLetters));
    }

    /// <summary>
    /// The report runs on a timer: a logging provider that throws there would end the process, since nobody can catch on
    /// a timer's thread. The fake clock runs the timer inside <c>Advance</c>, where such an exception would surface.
    /// </summary>
    [Fact]
    public async Task DeadLetters_LoggerThrowsDuringTimedReport_TimerCallbackDoesNotThrowAndLaterReportsStillRun()
    {
        var time = new FakeTimeProvider();
        var failing = new FailingLoggerProvider();
        int deadLetters = 0;
        var firstSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using ServiceProvider provider = Build(time, s =>
        {
            s.AddLogging(b => b.AddProvider(failing));
            s.AddBatcher<int, int>("unlogged", o =>
                {
                    o.Capacity = o.MaxBatchSize = 1;
                    o.OverflowPolicy = OverflowPolicy.DropWrite;
                    o.OnDeadLetter = _ => (Interlocked.Increment(ref deadLetters) == 1 ? firstSeen : secondSeen).TrySetResult();
                })
                .WithHandler((sp, jobs, ct) => ValueTask.FromResult(jobs));
        });
        Batcher<int, int> batcher = provider.GetRequiredService<Batcher<int, int>>(); // not started: the buffer stays full
        Assert.True(batcher.TryAdd(0));

        await batcher.AddAsync(1); // DropWrite: refused, and reported to the dead-letter callbacks
        await firstSeen.Task.WaitAsync(Guard);
        time.Advance(TimeSpan.FromSeconds(1));
        await batcher.AddAsync(2);
        await secondSeen.Task.WaitAsync(Guard);
        time.Advance(TimeSpan.FromSeconds(1));
        await batcher.StopAsync().WaitAsync(Guard); // job 0 is stored; the provider's disposal would fail it

        Assert.Equal(2, Volatile.Read(ref failing.DeadLetterReports));
        Assert.Equal(2, provider.GetFakeLogCollector().GetSnapshot().Count(r => r.Id.Name == "JobsDeadLettered"));
    }

    [Fact]
    public async Task DeadLetters_PerJobFailures_AggregatedByReason()
    {
        var time = new FakeTimeProvider();
        await using ServiceProvider provider = Build(time, s => s
            .AddBatcher<int, int>("partial", o =>
            {
                o.MaxBatchSize = 4;
                o.MaxBatchDelay = Timeout.InfiniteTimeSpan;
            })
            .WithHandler((sp, batch, ct) =>
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    if (batch[i] % 2 == 0)
                    {
                        batch.SetResult(i, batch[i]);
                    }
                    else
                    {
                        batch.Fail(i, new FormatException("odd"));
                    }
                }

                return ValueTask.CompletedTask;
            }));
        Batcher<int, int> batcher = provider.GetRequiredService<Batcher<int, int>>();
        batcher.Start();
        for (int i = 0; i < 8; i++)
        {
            await batcher.AddAsync(i);
        }

        await batcher.FlushAsync().WaitAsync(Guard);
        time.Advance(TimeSpan.FromSeconds(1));

        FakeLogRecord[] records = [.. provider.GetFakeLogCollector().GetSnapshot()];
        FakeLogRecord warning = Assert.Single(records, r => r.Id.Name == "JobsDeadLettered");
        Assert.Equal("4", warning.GetStructuredStateValue("JobCount"));
        Assert.Equal("Failed", warning.GetStructuredStateValue("Reason"));
        Assert.DoesNotContain(records, r => r.Id.Name == "BatchHandlerFailed");
    }
}
