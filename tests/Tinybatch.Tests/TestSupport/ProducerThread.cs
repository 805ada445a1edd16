namespace Tinybatch.Tests.TestSupport;

/// <summary>
/// Marks the producer's thread while it is inside a batcher call: user code that sees the mark ran synchronously on
/// the producer's thread.
/// </summary>
internal static class ProducerThread
{
    [ThreadStatic]
    private static bool t_inCall;

    public static bool IsCurrent => t_inCall;

    public static T Run<T>(Func<T> call)
    {
        t_inCall = true;
        try
        {
            return call();
        }
        finally
        {
            t_inCall = false;
        }
    }
}
