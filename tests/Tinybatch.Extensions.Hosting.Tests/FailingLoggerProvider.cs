using Microsoft.Extensions.Logging;

namespace Tinybatch.Extensions.Hosting.Tests;

/// <summary>A logging provider whose loggers throw on every dead-letter report, as a broken sink would.</summary>
internal sealed class FailingLoggerProvider : ILoggerProvider
{
    public int DeadLetterReports;

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(FailingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name == "JobsDeadLettered")
            {
                Interlocked.Increment(ref owner.DeadLetterReports);
                throw new IOException("the log sink is down");
            }
        }
    }
}
