using System.Globalization;

namespace Tinybatch.EventStream;

/// <summary>Generates <c>count</c> events from several concurrent producers.</summary>
internal sealed class GeneratedEventSource : IEventSource
{
    private readonly long _count;
    private readonly int _producers;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="count">How many events to generate.</param>
    /// <param name="producers">How many producer tasks add concurrently.</param>
    public GeneratedEventSource(long count, int producers)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(producers);
        _count = count;
        _producers = producers;
    }

    /// <inheritdoc/>
    public long? Count => _count;

    /// <inheritdoc/>
    public string Description => string.Create(CultureInfo.InvariantCulture, $"{_count:N0} generated events from {_producers} producer(s)");

    /// <inheritdoc/>
    public bool CanReplay => true;

    /// <inheritdoc/>
    public Task ProduceAsync(Func<StreamEvent, ValueTask> add, CancellationToken stop)
    {
        long next = 0;
        var producers = new Task[_producers];
        for (int p = 0; p < producers.Length; p++)
        {
            producers[p] = Task.Run(async () =>
            {
                // The id is claimed only after the stop check, and the add is never cancelled half-way: every claimed
                // id is accepted, so the accepted events are exactly ids 1..accepted.
                while (!stop.IsCancellationRequested)
                {
                    long id = Interlocked.Increment(ref next);
                    if (id > _count)
                    {
                        return;
                    }

                    await add(EventGenerator.Create(id));
                }
            }, CancellationToken.None);
        }

        return Task.WhenAll(producers);
    }

    /// <inheritdoc/>
    public IEnumerable<StreamEvent> Replay()
    {
        for (long id = 1; id <= _count; id++)
        {
            yield return EventGenerator.Create(id);
        }
    }
}
