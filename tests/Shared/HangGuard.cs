// Compiled into each test project that guards waits against hangs (see the project files).
namespace Tinybatch;

/// <summary>
/// How long a test waits in real time for a signal before it fails instead of hanging the run: 30 s, or
/// <c>TINYBATCH_HANG_GUARD_SECONDS</c>. Mutation testing sets it low, so that a mutant that makes the batcher hang
/// fails its tests in seconds rather than costing a test-host timeout.
/// </summary>
internal static class HangGuard
{
    public static readonly TimeSpan Timeout = Read();

    private static TimeSpan Read()
    {
        string? text = Environment.GetEnvironmentVariable("TINYBATCH_HANG_GUARD_SECONDS");
        return int.TryParse(text, out int seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromSeconds(30);
    }
}
