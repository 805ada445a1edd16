namespace Tinybatch.ReliabilityTests;

/// <summary>The real batcher did something the reference model (or an invariant) forbids.</summary>
public sealed class ModelMismatchException : Exception
{
    public ModelMismatchException()
    {
    }

    public ModelMismatchException(string message)
        : base(message)
    {
    }

    public ModelMismatchException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
