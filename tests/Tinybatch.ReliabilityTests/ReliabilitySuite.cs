namespace Tinybatch.ReliabilityTests;

/// <summary>
/// Every test class of this assembly is in this one collection, so the fixture's Dispose runs once, after the last
/// test: that is where the suite writes its figure of escaped exceptions (see <see cref="UnobservedExceptionFixture"/>).
/// One collection also keeps the memory measurements free of tests running in parallel.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ReliabilitySuite : ICollectionFixture<UnobservedExceptionFixture>
{
    public const string Name = "Reliability suite";
}
