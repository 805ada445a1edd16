using Microsoft.Extensions.Time.Testing;
using Tinybatch.Tests.TestSupport;

namespace Tinybatch.Tests;

/// <summary>Contract point 9: no task exception goes unobserved, whatever fails.</summary>
[Collection(NonParallel.Name)]
public class UnobservedExceptionTests
{
    [Fact]
    public async Task Failures_OfEveryKind_LeaveNoUnobservedTaskException()
    {
        var unobserved = new List<Exception>();
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            lock (unobserved)
            {
                unobserved.Add(e.Exception);
            }
        }

        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            await RunFailingScenariosAsync();
            for (int i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }

        Assert.True(unobserved.Count == 0, "Unobserved task exceptions:\n" + string.Join("\n---\n", unobserved));
    }

    private static async Task RunFailingScenariosAsync()
    {
        var time = new FakeTimeProvider();
        var gate = new HandlerGate();
        var options = new BatcherOptions<int, int>
        {
            MaxBatchSize = 2,
            Capacity = 4,
            MaxBatchDelay = TimeSpan.Zero,
            TimeProvider = time,
            HandlerTimeout = TimeSpan.FromSeconds(1),
            OnBatchCompleted = _ => throw new InvalidOperationException("callback"),
            OnDeadLetter = _ => throw new InvalidOperationException("dead letter callback"),
        };
        var batcher = new Batcher<int, int>(
            async (jobs, ct) =>
            {
                if (jobs[0] == 0)
                {
                    await gate.PassHonoringAsync(ct);
                }

                await Task.Yield();
                throw new InvalidOperationException("handler");
            },
            options);
        batcher.Start();

        // Fire-and-forget jobs that fail: nobody observes them but the batcher.
        for (int i = 1; i < 20; i++)
        {
            await batcher.AddAsync(i);
        }

        await batcher.FlushAsync().Guarded();

        // A handler that outlives its timeout, then a stop whose deadline fires.
        batcher.TryAdd(0);
        await gate.WhenEnteredAsync(1);
        time.Advance(TimeSpan.FromSeconds(1));
        batcher.TryAdd(0);
        await gate.WhenEnteredAsync(2);
        using var deadline = new CancellationTokenSource();
        Task stop = batcher.StopAsync(deadline.Token);
        deadline.Cancel();
        await stop.Guarded();
        gate.Open();
    }
}
