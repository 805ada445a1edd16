using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Tinybatch.StressTests;

/// <summary>
/// Many producers and awaiting callers against a handler with random delays and faults, concurrent flushes, and a stop
/// in the middle of the load, round after round with random configurations. Proves zero lost, zero duplicated and
/// zero stuck jobs. TINYBATCH_SOAK_SECONDS sets the total time (default 50 s; `make stress` soaks for 600 s).
/// </summary>
public sealed class StressTests(ITestOutputHelper output)
{
    public static TimeSpan Budget =>
        int.TryParse(Environment.GetEnvironmentVariable("TINYBATCH_SOAK_SECONDS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int s) && s > 0
            ? TimeSpan.FromSeconds(s)
            : TimeSpan.FromSeconds(50);

    [Fact]
    public async Task ManyProducersFaultsFlushesAndStop_NoJobLostDuplicatedOrStuck()
    {
        var clock = Stopwatch.StartNew();
        var totals = new StressTotals(0, 0, 0, 0, 0, 0, 0, []);
        // TINYBATCH_STRESS_SEED replays a reported round: its seed fixes the configuration and every random choice.
        int seed = int.TryParse(Environment.GetEnvironmentVariable("TINYBATCH_STRESS_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int fixedSeed)
            ? fixedSeed
            : Environment.TickCount;
        int round = 0;
        while (clock.Elapsed < Budget - TimeSpan.FromSeconds(3) || round == 0)
        {
            int roundSeed = seed + round;
            var loadTime = TimeSpan.FromMilliseconds(new Random(roundSeed).Next(200, 2500));
            var stressRound = new StressRound(roundSeed, loadTime);
            StressTotals result = await stressRound.RunAsync();
            if (result.Problems.Count > 0)
            {
                output.WriteLine($"round {round} (seed {roundSeed}): {stressRound.Configuration}");
            }

            foreach (string problem in result.Problems.Take(20))
            {
                output.WriteLine($"round {round} (seed {roundSeed}): {problem}");
            }

            totals += result;
            round++;
        }

        string line = string.Create(
            CultureInfo.InvariantCulture,
            $"stress: accepted={totals.Accepted} processed={totals.Processed} failed={totals.Failed} rejected={totals.Rejected} lost={totals.Lost} duplicated={totals.Duplicated} seconds={clock.Elapsed.TotalSeconds:F0}");
        string details = string.Create(
            CultureInfo.InvariantCulture,
            $"stress details: rounds={round} canceled={totals.Canceled} problems={totals.Problems.Count} first seed={seed}");
        Report(line);
        Report(details);

        Assert.True(totals.Problems.Count == 0, string.Join(Environment.NewLine, totals.Problems.Take(30)));
        Assert.Equal(0, totals.Lost);
        Assert.Equal(0, totals.Duplicated);
        Assert.True(totals.Accepted > 0, "no job was accepted: the stress run proved nothing");
        Assert.Equal(totals.Accepted, totals.Processed + totals.Failed + totals.Canceled);
    }

    /// <summary>Writes to the test output, to stdout (so `dotnet test` logs show it) and to TestResults/stress.txt.</summary>
    private void Report(string line)
    {
        output.WriteLine(line);
        Console.Out.WriteLine(line);
        ResultsFile.Append("stress.txt", line);
    }
}
