namespace Tinybatch.Internal;

/// <summary>
/// Marks the code a batcher runs on behalf of its user (its handler and its callbacks), so that a call back into the
/// same batcher that would wait for the very batch running it (<c>AddAndWaitAsync</c>, <c>FlushAsync</c>,
/// <c>StopAsync</c>, <c>DisposeAsync</c>) fails fast instead of deadlocking. The mark is an <see cref="AsyncLocal{T}"/>
/// inside one execution context captured per batcher, so it follows the handler across its awaits and costs no
/// allocation per batch.
/// </summary>
internal static class CallbackScope
{
    private static readonly AsyncLocal<object?> s_owner = new();

    /// <summary>Whether the current code runs inside <paramref name="owner"/>'s handler or callbacks.</summary>
    public static bool IsInside(object owner) => ReferenceEquals(s_owner.Value, owner);

    /// <summary>
    /// Captures an execution context marked for <paramref name="owner"/>. Call it on a thread-pool work item queued
    /// without flowing a context, so nothing of a caller's context (its activity, its async locals) is captured.
    /// </summary>
    public static ExecutionContext CaptureFor(object owner)
    {
        s_owner.Value = owner;
        ExecutionContext context = ExecutionContext.Capture()!;
        s_owner.Value = null;
        return context;
    }

    /// <summary>Throws if the current code runs inside <paramref name="owner"/>'s handler or callbacks.</summary>
    public static void ThrowIfInside(object owner, string name, string operation)
    {
        if (IsInside(owner))
        {
            ThrowHelper.ThrowReentrant(name, operation);
        }
    }
}
