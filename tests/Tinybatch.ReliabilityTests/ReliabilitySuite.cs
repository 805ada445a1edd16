namespace Tinybatch.ReliabilityTests;

/// <summary>
/// Every test class of this assembly is in this one collection, so the fixture's Dispose runs once, after the last
/// test: that is where unobserved task exceptions are checked (see <see cref="UnobservedExceptionMonitor"/>).
/// One collection also keeps the memory measurements free of tests running in parallel.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ReliabilitySuite : ICollectionFixture<UnobservedExceptionFixture>
{
    public const string Name = "Reliability suite";
}
