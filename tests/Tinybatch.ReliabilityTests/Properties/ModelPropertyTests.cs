using System.Globalization;
using CsCheck;
using Tinybatch.ReliabilityTests.Model;
using Xunit.Abstractions;

namespace Tinybatch.ReliabilityTests.Properties;

/// <summary>
/// Random operation sequences against a real batcher, each compared step by step with <see cref="BatcherModel"/>.
/// TINYBATCH_PROPERTY_ITER sets the number of sequences (default 3000); CsCheck_Seed replays one failing seed.
/// </summary>
[Collection(ReliabilitySuite.Name)]
public sealed class ModelPropertyTests(ITestOutputHelper output)
{
    /// <summary>Gets the number of sequences to run: several thousand per CI run by default.</summary>
    public static long Iterations =>
        long.TryParse(Environment.GetEnvironmentVariable("TINYBATCH_PROPERTY_ITER"), NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) && n > 0
            ? n
            : 3000;

    [Fact]
    public void RandomSequences_MatchTheReferenceModel()
    {
        ScenarioGen.Scenario.Sample(
            scenario => RunScenario(scenario),
            writeLine: output.WriteLine,
            seed: Environment.GetEnvironmentVariable("CsCheck_Seed"),
            iter: Iterations,
            print: s => s.ToString());
        SuiteFigures.Record($"property: sequences={Iterations}");
        output.WriteLine($"property: sequences={Iterations}");
    }

    /// <summary>Runs one scenario synchronously: CsCheck's Sample drives threads of its own.</summary>
    internal static void RunScenario(Scenario scenario)
    {
        Task.Run(async () =>
        {
            await using var driver = new RealBatcherDriver(scenario);
            await driver.RunAsync();
        }).GetAwaiter().GetResult();
    }
}
