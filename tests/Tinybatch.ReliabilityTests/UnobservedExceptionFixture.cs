namespace Tinybatch.ReliabilityTests;

/// <summary>
/// The collection fixture of the whole suite. Its Dispose runs after the last test of the assembly and writes the
/// figure for the CI log. The verdict itself is <see cref="MonitoredTestFramework"/>'s, as in every test project: any
/// exception that escaped or went unobserved fails the assembly.
/// </summary>
public sealed class UnobservedExceptionFixture : IDisposable
{
    public void Dispose()
    {
        IReadOnlyList<(string Kind, Exception Exception)> seen = UnhandledExceptionMonitor.Collect();
        SuiteFigures.Record($"unobserved task exceptions: {seen.Count(e => e.Kind.StartsWith("unobserved", StringComparison.Ordinal))}, "
            + $"unhandled exceptions: {seen.Count(e => e.Kind.StartsWith("unhandled", StringComparison.Ordinal))}");
    }
}
