namespace Tinybatch.ReliabilityTests;

/// <summary>The failure a test handler or callback throws on purpose.</summary>
public sealed class InjectedFailureException : Exception
{
    public InjectedFailureException()
        : base("injected failure")
    {
    }

    public InjectedFailureException(string message)
        : base(message)
    {
    }

    public InjectedFailureException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
