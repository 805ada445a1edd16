using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Tinybatch.Benchmarks.Compare;

/// <summary>
/// A sampling allocation profile (<c>--alloc-profile</c>): the runtime reports an allocation tick about every 100 KB
/// allocated, naming the type whose allocation crossed the mark, so the ticks per type estimate where the bytes go.
/// The listener allocates for itself, so B/item figures of a profiled run are not the ones to publish.
/// </summary>
internal sealed class AllocationProfiler : EventListener
{
    private const int GCAllocationTickEventId = 10;
    private const EventKeywords GCKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytesByType = new();

    public void Reset() => _bytesByType.Clear();

    /// <summary>Returns the types that took the most sampled bytes, biggest first.</summary>
    public IReadOnlyList<(string Type, long Bytes)> Top(int count)
    {
        // Runtime events reach the listener through a dispatch thread, a little after the fact.
        Thread.Sleep(1500);
        return _bytesByType.OrderByDescending(p => p.Value).Take(count).Select(p => (p.Key, p.Value)).ToList();
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GCKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventId != GCAllocationTickEventId || eventData.PayloadNames is null)
        {
            return;
        }

        int typeIndex = eventData.PayloadNames.IndexOf("TypeName");
        int amountIndex = eventData.PayloadNames.IndexOf("AllocationAmount64");
        if (typeIndex < 0 || amountIndex < 0)
        {
            return;
        }

        string type = eventData.Payload![typeIndex] as string ?? "?";
        long amount = Convert.ToInt64(eventData.Payload[amountIndex], System.Globalization.CultureInfo.InvariantCulture);
        _bytesByType.AddOrUpdate(type, amount, (_, total) => total + amount);
    }
}
