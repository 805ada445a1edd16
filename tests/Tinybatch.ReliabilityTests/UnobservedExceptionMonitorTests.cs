using System.Diagnostics;
using System.Runtime.CompilerServices;
using Xunit.Abstractions;

namespace Tinybatch.ReliabilityTests;

/// <summary>
/// The suite-wide check (tests/Shared/Monitor, wired into every test project by tests/Directory.Build.props) is only
/// worth something if its hooks fire and its verdict really fails a run.
/// </summary>
[Collection(ReliabilitySuite.Name)]
public sealed class UnobservedExceptionMonitorTests(ITestOutputHelper output)
{
    private const string Unobserved = "unobserved task exception";
    private const string Unhandled = "unhandled exception";

    [Fact]
    public async Task Monitor_FaultedTaskDroppedAndCollected_IsRecorded()
    {
        DropFaultedTask();
        for (int i = 0; i < 50 && !UnhandledExceptionMonitor.SawMarker(Unobserved); i++)
        {
            UnhandledExceptionMonitor.Collect();
            await Task.Yield();
        }

        Assert.True(UnhandledExceptionMonitor.SawMarker(Unobserved), "a dropped faulted task raised no UnobservedTaskException: the suite's check would be blind");
    }

    [Fact]
    public async Task Monitor_ExceptionEscapingAWorkItem_IsRecordedAndTheProcessLives()
    {
        Assert.True(UnhandledExceptionMonitor.ContainsUnhandled, "unhandled exceptions are not contained: a library defect would kill the test host");
        var thrown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ThreadPool.UnsafeQueueUserWorkItem(
            _ =>
            {
                thrown.SetResult();
                throw new InjectedFailureException(UnhandledExceptionMonitor.SelfTestMarker);
            },
            null);
        await thrown.Task.WaitAsync(HangGuard.Timeout);
        var clock = Stopwatch.StartNew();
        while (!UnhandledExceptionMonitor.SawMarker(Unhandled) && clock.Elapsed < HangGuard.Timeout)
        {
            await Task.Delay(1);
        }

        Assert.True(UnhandledExceptionMonitor.SawMarker(Unhandled), "an exception escaping a thread-pool work item was not recorded");
    }

    [Fact]
    public void Verdict_AnythingRecorded_NamesEachException()
    {
        Assert.Null(UnhandledExceptionMonitor.Verdict("run", []));
        Exception? failure = UnhandledExceptionMonitor.Verdict("run", [(Unhandled, new InjectedFailureException("boom"))]);
        Assert.NotNull(failure);
        Assert.Contains("boom", failure.Message, StringComparison.Ordinal);
        Assert.Contains(Unhandled, failure.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// End to end, in a child process: a test project wired like every other (tests/Tinybatch.MonitorSelfTest, not in
    /// the solution) whose one test passes but leaves an exception behind. Its run must fail; the same project leaving
    /// nothing behind must pass, so the failure is the monitor's and not the build's.
    /// </summary>
    [Fact]
    public async Task TestRun_ExceptionLeftBehindByAPassingTest_FailsTheRun()
    {
        string project = Path.Combine(RepositoryRoot(), "tests", "Tinybatch.MonitorSelfTest");
        (int build, string buildLog) = await RunDotnetAsync($"build \"{project}\" -nologo -v q", "none");
        Assert.True(build == 0, "the self-test project did not build: " + buildLog);

        foreach (string mode in new[] { "none", "unobserved", "workitem" })
        {
            (int exit, string log) = await RunDotnetAsync($"test \"{project}\" --no-build -nologo", mode);
            output.WriteLine($"--- {mode}: exit {exit}\n{log}");
            Assert.Contains("Passed:     1", log, StringComparison.Ordinal);
            if (mode == "none")
            {
                Assert.True(exit == 0, $"the self-test run failed with nothing left behind: {log}");
            }
            else
            {
                Assert.True(exit != 0, $"an exception left behind ({mode}) did not fail the run: {log}");
                Assert.Contains("Test Assembly Cleanup Failure", log, StringComparison.Ordinal);
            }
        }
    }

    private static async Task<(int Exit, string Log)> RunDotnetAsync(string arguments, string mode)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // The child is a fresh dotnet: none of this test host's own settings.
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k == "DOTNET_HOST_PATH").ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["TINYBATCH_SELFTEST_ESCAPE"] = mode;
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(limit.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tinybatch.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Tinybatch.sln not found above " + AppContext.BaseDirectory);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DropFaultedTask() =>
        _ = Task.FromException(new InjectedFailureException(UnhandledExceptionMonitor.SelfTestMarker));
}
