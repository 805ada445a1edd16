namespace Tinybatch.Tests.TestSupport;

/// <summary>Tests that watch process-wide events or load both cores run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NonParallel
{
    public const string Name = "NonParallel";
}
