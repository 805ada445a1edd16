using System.Runtime.CompilerServices;

namespace Tinybatch.MonitorSelfTest;

/// <summary>
/// Each test passes on its own; what it leaves behind (chosen by TINYBATCH_SELFTEST_ESCAPE) must fail the assembly.
/// </summary>
public sealed class EscapingExceptionTests
{
    private static readonly string Mode = Environment.GetEnvironmentVariable("TINYBATCH_SELFTEST_ESCAPE") ?? "none";

    [Fact]
    public async Task Escape_AsConfigured_TheTestItselfPasses()
    {
        switch (Mode)
        {
            case "unobserved":
                DropFaultedTask();
                break;
            case "workitem":
                var thrown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                ThreadPool.UnsafeQueueUserWorkItem(
                    _ =>
                    {
                        thrown.SetResult();
                        throw new InvalidOperationException("escaped from a work item");
                    },
                    null);
                await thrown.Task;
                break;
        }

        Assert.True(true);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DropFaultedTask() => _ = Task.FromException(new InvalidOperationException("left unobserved"));
}
