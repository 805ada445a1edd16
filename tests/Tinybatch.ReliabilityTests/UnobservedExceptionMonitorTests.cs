using System.Runtime.CompilerServices;

namespace Tinybatch.ReliabilityTests;

/// <summary>The suite-wide unobserved-exception check is only worth something if the hook really fires.</summary>
[Collection(ReliabilitySuite.Name)]
public sealed class UnobservedExceptionMonitorTests
{
    [Fact]
    public async Task Monitor_FaultedTaskDroppedAndCollected_IsRecorded()
    {
        DropFaultedTask();
        for (int i = 0; i < 50 && !UnobservedExceptionMonitor.SawSelfTest; i++)
        {
            UnobservedExceptionMonitor.Collect();
            await Task.Yield();
        }

        Assert.True(UnobservedExceptionMonitor.SawSelfTest, "a dropped faulted task raised no UnobservedTaskException: the suite's check would be blind");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DropFaultedTask() =>
        _ = Task.FromException(new InjectedFailureException(UnobservedExceptionMonitor.SelfTestMarker));
}
