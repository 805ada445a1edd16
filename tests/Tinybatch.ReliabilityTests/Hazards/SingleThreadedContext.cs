using System.Collections.Concurrent;

namespace Tinybatch.ReliabilityTests.Hazards;

/// <summary>
/// A SynchronizationContext with one dedicated thread, like a UI thread: a continuation posted to it runs only when
/// that thread is free. A library that resumed on the caller's context would deadlock a caller that blocks here.
/// </summary>
public sealed class SingleThreadedContext : SynchronizationContext, IDisposable
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _work = [];
    private readonly Thread _thread;

    public SingleThreadedContext()
    {
        _thread = new Thread(Pump) { IsBackground = true, Name = "single-threaded context" };
        _thread.Start();
    }

    public int ThreadId => _thread.ManagedThreadId;

    public override void Post(SendOrPostCallback d, object? state) => _work.Add((d, state));

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("Send is not used by the batcher and would block the context thread.");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Runs an async function on the context thread and returns its result (awaited from outside).</summary>
    public Task<T> RunAsync<T>(Func<Task<T>> action)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(
            async _ =>
            {
                try
                {
                    done.TrySetResult(await action());
                }
                catch (Exception ex)
                {
                    done.TrySetException(ex);
                }
            },
            null);
        return done.Task;
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(10));
        _work.Dispose();
    }

    private void Pump()
    {
        SetSynchronizationContext(this);
        foreach ((SendOrPostCallback callback, object? state) in _work.GetConsumingEnumerable())
        {
            callback(state);
        }
    }
}
