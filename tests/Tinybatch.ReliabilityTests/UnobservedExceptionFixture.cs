namespace Tinybatch.ReliabilityTests;

/// <summary>
/// The collection fixture of the whole suite. Its Dispose runs after the last test of the assembly; an unobserved task
/// exception seen at any time during the run makes it throw, which xunit reports as a failed run (collection cleanup
/// failure), and `dotnet test` exits non-zero. UnobservedExceptionMonitorTests proves the hook is live.
/// </summary>
public sealed class UnobservedExceptionFixture : IDisposable
{
    public void Dispose()
    {
        IReadOnlyList<Exception> seen = UnobservedExceptionMonitor.Collect();
        SuiteFigures.Record($"unobserved task exceptions: {seen.Count}");
        if (seen.Count > 0)
        {
            throw new InvalidOperationException(
                $"{seen.Count} unobserved task exception(s) during the reliability suite: "
                + string.Join(" | ", seen.Select(e => e.ToString())));
        }
    }
}
