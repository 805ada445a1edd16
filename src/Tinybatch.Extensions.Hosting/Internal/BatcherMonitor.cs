using Microsoft.Extensions.Logging;

namespace Tinybatch.Extensions.Hosting.Internal;

/// <summary>Names shared by every <see cref="BatcherMonitor{TJob}"/>.</summary>
internal static class BatcherMonitor
{
    /// <summary>The logger category of every batcher registered with <c>AddBatcher</c>.</summary>
    public const string LoggerCategory = "Tinybatch";

    /// <summary>How often at most dead letters of one reason are reported.</summary>
    public static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Logs a batcher's failures without a log storm. A failed handler call is logged once per batch, with its exception.
/// Dead letters are counted per reason with one interlocked increment (producers may be dropping thousands per second)
/// and reported at most once per <see cref="BatcherMonitor.ReportInterval"/>, with the count and the first exception:
/// a timer armed by the first dead letter after a report makes sure the last burst is reported too. Jobs abandoned at
/// the stop deadline are counted apart and reported by the hosted service as one shutdown error. One type serves both
/// kinds of batcher: a <see cref="Batch{TJob, TResult}"/> is a <see cref="Batch{TJob}"/>.
/// </summary>
internal sealed class BatcherMonitor<TJob> : IDisposable
{
    private const int ReasonCount = (int)DeadLetterReason.TimedOut + 1;

    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly long[] _counts = new long[ReasonCount];
    private readonly Exception?[] _firstExceptions = new Exception?[ReasonCount];
    private int _armed;
    private long _stopped;

    public BatcherMonitor(string name, ILogger logger, TimeProvider time)
    {
        Name = name;
        _logger = logger;
        using (ExecutionContext.SuppressFlow())
        {
            _timer = time.CreateTimer(static s => ((BatcherMonitor<TJob>)s!).ReportQuietly(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    public string Name { get; }

    public ILogger Logger => _logger;

    /// <summary>Composes logging into the options' callbacks; the user's own callbacks still run, after ours.</summary>
    public void Attach<TResult>(BatcherOptions<TJob, TResult> options)
    {
        Action<Batch<TJob, TResult>>? userCompleted = options.OnBatchCompleted;
        options.OnBatchCompleted = batch =>
        {
            OnBatchCompleted(batch);
            userCompleted?.Invoke(batch);
        };
        options.OnDeadLetter = Compose(options.OnDeadLetter);
    }

    /// <inheritdoc cref="Attach{TResult}(BatcherOptions{TJob, TResult})"/>
    public void Attach(BatcherOptions<TJob> options)
    {
        Action<Batch<TJob>>? userCompleted = options.OnBatchCompleted;
        options.OnBatchCompleted = batch =>
        {
            OnBatchCompleted(batch);
            userCompleted?.Invoke(batch);
        };
        options.OnDeadLetter = Compose(options.OnDeadLetter);
    }

    /// <summary>Returns how many jobs failed at the stop deadline since the last call, and resets the count.</summary>
    public long TakeStoppedCount() => Interlocked.Exchange(ref _stopped, 0);

    /// <summary>Reports the dead letters counted so far, without waiting for the timer.</summary>
    public void Report()
    {
        // Disarm first: a dead letter counted while this runs re-arms the timer, so it is reported next time.
        Volatile.Write(ref _armed, 0);
        for (int reason = 0; reason < ReasonCount; reason++)
        {
            long count = Interlocked.Exchange(ref _counts[reason], 0);
            if (count > 0)
            {
                Exception? first = Interlocked.Exchange(ref _firstExceptions[reason], null);
                BatcherLog.DeadLettered(_logger, first, Name, count, (DeadLetterReason)reason);
            }
        }
    }

    /// <summary>
    /// The timer's report, and the last one at disposal. The timer runs it on a thread-pool thread where nobody can catch:
    /// an exception from a logging provider (the logger factory rethrows its providers' failures) would end the process,
    /// and one from <see cref="Dispose"/> would stop the container from disposing the services after this one. The logger
    /// is the only place this monitor reports to, so a report it cannot take is abandoned; the next dead letter arms the
    /// timer again.
    /// </summary>
    private void ReportQuietly()
    {
        try
        {
            Report();
        }
        catch (Exception)
        {
            // The logger failed: there is nowhere left to report this to.
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        ReportQuietly();
    }

    private Action<DeadLetter<TJob>> Compose(Action<DeadLetter<TJob>>? user) => deadLetter =>
    {
        OnDeadLetter(deadLetter);
        user?.Invoke(deadLetter);
    };

    private void OnBatchCompleted(Batch<TJob> batch)
    {
        if (batch.Exception is { } exception)
        {
            BatcherLog.HandlerFailed(_logger, exception, Name, batch.Id, batch.Count);
        }
    }

    private void OnDeadLetter(DeadLetter<TJob> deadLetter)
    {
        int reason = (int)deadLetter.Reason;
        if (deadLetter.Reason == DeadLetterReason.Stopped)
        {
            Interlocked.Increment(ref _stopped);
            return;
        }

        if ((uint)reason >= ReasonCount)
        {
            // A reason newer than this package: report it under Failed rather than lose it.
            reason = (int)DeadLetterReason.Failed;
        }

        Interlocked.CompareExchange(ref _firstExceptions[reason], deadLetter.Exception, null);
        Interlocked.Increment(ref _counts[reason]);
        if (Interlocked.CompareExchange(ref _armed, 1, 0) == 0)
        {
            _timer.Change(BatcherMonitor.ReportInterval, Timeout.InfiniteTimeSpan);
        }
    }
}
