namespace Tinybatch.Internal;

/// <summary>The result type of the engine behind a result-less <see cref="Batcher{TJob}"/>: it carries nothing.</summary>
internal readonly struct NoResult
{
}
