using System.Reactive.Linq;
using System.Reactive.Subjects;
using System.Runtime.InteropServices;

namespace Tinybatch.Benchmarks.Implementations;

/// <summary>Rx: a Subject, Synchronize() when several producers call OnNext, then Buffer(TimeSpan, int).</summary>
internal sealed class RxPipeline<T> : IAnchorPipeline<T>
{
    private readonly Subject<T> _subject = new();
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IDisposable _subscription;

    public RxPipeline(BatchSettings settings, SpanHandler<T> handler)
    {
        IObservable<T> source = settings.ConcurrentProducers ? _subject.Synchronize() : _subject;
        _subscription = source
            .Buffer(settings.MaxBatchDelay, settings.MaxBatchSize)
            .Subscribe(
                items =>
                {
                    // Buffer emits an empty list at every tick without items: that is no batch.
                    if (items.Count > 0)
                    {
                        handler(items is List<T> list ? CollectionsMarshal.AsSpan(list) : items.ToArray());
                    }
                },
                error => _completed.TrySetException(error),
                () => _completed.TrySetResult());
    }

    public void Post(T item) => _subject.OnNext(item);

    public Task CompleteAsync()
    {
        _subject.OnCompleted();
        return _completed.Task;
    }

    public void Dispose()
    {
        _subscription.Dispose();
        _subject.Dispose();
    }
}
