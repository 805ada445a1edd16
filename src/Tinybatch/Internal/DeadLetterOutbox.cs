using System.Collections.Concurrent;
using System.Diagnostics;

namespace Tinybatch.Internal;

/// <summary>
/// Delivers dead letters to the user's callback. Letters of a finished batch are delivered on the thread that finished
/// it (a slow callback then slows the batcher rather than piling up). Letters decided elsewhere (an add refused or
/// dropped on a producer's thread, jobs abandoned by a stop deadline or a handler timeout) wait here and are delivered
/// from the thread pool, one drain at a time, so no callback runs inside a producer's add, a token's <c>Cancel()</c>
/// or a <c>StopAsync</c> call. While letters from producers pile up faster than the callback takes them, the producer
/// delivers the oldest itself, so memory stays bounded.
/// </summary>
internal sealed class DeadLetterOutbox<TJob>
{
    /// <summary>Letters allowed to wait before a producer delivers one itself.</summary>
    public const int Limit = 1024;

    /// <summary>How long one delivery may run before a stop past its deadline stops waiting for the outbox.</summary>
    public static readonly TimeSpan StuckAfter = TimeSpan.FromSeconds(1);

    private readonly Action<DeadLetter<TJob>>? _callback;
    private readonly Func<ExecutionContext?> _context;
    private readonly Action _onFailure;
    private readonly Action _onIdle;
    private readonly ConcurrentQueue<Letter> _letters = new();
    private int _pending;
    private int _draining;
    private long _deliveringSince;

    public DeadLetterOutbox(Action<DeadLetter<TJob>>? callback, Func<ExecutionContext?> context, Action onFailure, Action onIdle)
    {
        _callback = callback;
        _context = context;
        _onFailure = onFailure;
        _onIdle = onIdle;
    }

    /// <summary>Gets a value indicating whether there is a callback to deliver to.</summary>
    public bool IsEnabled => _callback is not null;

    /// <summary>Gets the number of letters and callbacks posted and not yet delivered.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>
    /// Gets a value indicating whether the drain is stuck in one callback for more than <see cref="StuckAfter"/>
    /// (real time): a stop past its deadline then returns without waiting for the rest, which is still delivered later.
    /// </summary>
    public bool IsStuck
    {
        get
        {
            long since = Volatile.Read(ref _deliveringSince);
            return since != 0 && Stopwatch.GetElapsedTime(since) > StuckAfter;
        }
    }

    /// <summary>Posts a callback (the completion callback of an abandoned batch) to run like a letter, in order.</summary>
    public void PostCallback(Action<object?> callback, object? state)
    {
        Interlocked.Increment(ref _pending);
        _letters.Enqueue(new Letter(default!, default, null, null, 0, default, callback, state));
        StartDrain();
    }

    /// <summary>Delivers a letter now, on this thread (a handler's). Exceptions are counted, never thrown.</summary>
    public void Deliver(TJob job, DeadLetterReason reason, Exception exception, int attempts, JobStage stage)
    {
        if (_callback is null)
        {
            return;
        }

        try
        {
            _callback(new DeadLetter<TJob>(job, reason, exception, attempts, stage));
        }
        catch (Exception)
        {
            _onFailure();
        }
    }

    /// <summary>
    /// Posts a letter for the thread pool. <paramref name="exception"/> may be null: it is then created from
    /// <paramref name="describe"/> at delivery, so a flood of drops nobody listens to allocates nothing.
    /// </summary>
    /// <param name="job">The job.</param>
    /// <param name="reason">Why it ended here.</param>
    /// <param name="exception">Its exception, or null to create it at delivery.</param>
    /// <param name="describe">Creates the exception at delivery when <paramref name="exception"/> is null.</param>
    /// <param name="attempts">How many handler calls saw it.</param>
    /// <param name="stage">Where it was when it ended.</param>
    /// <param name="mayDeliverHere">Whether this thread may deliver the oldest letter itself when too many wait (a producer may; a stop may not).</param>
    public void Post(TJob job, DeadLetterReason reason, Exception? exception, Func<Exception>? describe, int attempts, JobStage stage, bool mayDeliverHere)
    {
        if (_callback is null)
        {
            return;
        }

        int backlog = Interlocked.Increment(ref _pending);
        _letters.Enqueue(new Letter(job, reason, exception, describe, attempts, stage, null, null));
        if (mayDeliverHere && backlog > Limit && _letters.TryDequeue(out Letter oldest))
        {
            DeliverLetter(oldest);
        }

        StartDrain();
    }

    private void StartDrain()
    {
        if (Volatile.Read(ref _draining) == 0 && Interlocked.Exchange(ref _draining, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static outbox => outbox.DrainInContext(), this, preferLocal: false);
        }
    }

    private void DrainInContext()
    {
        if (_context() is { } context)
        {
            ExecutionContext.Run(context, static s => ((DeadLetterOutbox<TJob>)s!).Drain(), this);
        }
        else
        {
            Drain();
        }
    }

    private void Drain()
    {
        while (true)
        {
            while (_letters.TryDequeue(out Letter letter))
            {
                DeliverLetter(letter);
            }

            Volatile.Write(ref _draining, 0);

            // A letter enqueued after the last TryDequeue but before the flag was cleared saw the drain running.
            if (_letters.IsEmpty || Interlocked.Exchange(ref _draining, 1) != 0)
            {
                break;
            }
        }
    }

    private void DeliverLetter(in Letter letter)
    {
        Volatile.Write(ref _deliveringSince, Stopwatch.GetTimestamp());
        if (letter.Callback is { } callback)
        {
            try
            {
                callback(letter.CallbackState);
            }
            catch (Exception)
            {
                _onFailure();
            }
        }
        else
        {
            Exception exception;
            try
            {
                exception = letter.Exception ?? letter.Describe!();
            }
            catch (Exception ex)
            {
                exception = ex;
            }

            Deliver(letter.Job, letter.Reason, exception, letter.Attempts, letter.Stage);
        }

        Volatile.Write(ref _deliveringSince, 0);
        if (Interlocked.Decrement(ref _pending) == 0)
        {
            _onIdle();
        }
    }

    private readonly record struct Letter(
        TJob Job, DeadLetterReason Reason, Exception? Exception, Func<Exception>? Describe, int Attempts, JobStage Stage, Action<object?>? Callback, object? CallbackState);
}
