using System.Reflection;
using Tinybatch.Partitioning;
using Tinybatch.ReliabilityTests.Support;
using Xunit.Abstractions;

namespace Tinybatch.ReliabilityTests.Boundaries;

/// <summary>
/// The boundary matrix (<see cref="OptionMatrix"/>): every numeric and duration option of the batcher, the retry
/// policy, the partitioned batcher, the data loader and the hosting configuration binding, at min−1, min, max, max+1,
/// the type's extremes and the timer limit ± 1 ms. Each value either is refused at construction with an error naming
/// the option (<see cref="ArgumentOutOfRangeException"/>; <c>OptionsValidationException</c> for hosting), or the built
/// object processes one job and stops cleanly, with no exception escaping into the thread pool, within a hang guard.
/// </summary>
[Collection(ReliabilitySuite.Name)]
public sealed partial class OptionBoundaryTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Cases => OptionMatrix.Ids;

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task OptionValue_AtBoundary_RefusedNamingTheOptionOrProcessesOneJobAndStops(string id)
    {
        OptionCase c = OptionMatrix.ById[id];
        int mark = Contained.Mark();
        Task run = c.Target switch
        {
            OptionTarget.Batcher => RunBatcherAsync(c, mark),
            OptionTarget.ResultlessBatcher => RunResultlessAsync(c, mark),
            OptionTarget.Partitioned => RunPartitionedAsync(c, mark),
            OptionTarget.DataLoader => RunLoaderAsync(c, mark),
            OptionTarget.Hosting => RunHostingAsync(c, mark),
            _ => throw new ArgumentOutOfRangeException(nameof(id)),
        };
        await run.Within(mark, id);
        Contained.ThrowIfEscaped(mark, id);
    }

    /// <summary>
    /// The matrix cannot fall behind the options: every public int, long, long?, int? and TimeSpan property of each
    /// options type has cases (whatever its name), so a new option fails here until its boundaries are decided.
    /// </summary>
    [Fact]
    public void Matrix_EveryNumericAndDurationOption_HasCases()
    {
        var expected = new List<string>();
        void Options(Type type, OptionTarget target, string prefix, params string[] skip)
        {
            foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                Type t = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                if (property.CanWrite && (t == typeof(int) || t == typeof(long) || t == typeof(TimeSpan)) && !skip.Contains(property.Name))
                {
                    expected.Add($"{target}.{prefix}{property.Name}");
                }
            }
        }

        Options(typeof(BatcherOptions), OptionTarget.Batcher, "");
        Options(typeof(RetryPolicy), OptionTarget.Batcher, "Retry.");
        Options(typeof(BatcherOptions), OptionTarget.ResultlessBatcher, "");
        Options(typeof(RetryPolicy), OptionTarget.ResultlessBatcher, "Retry.");
        Options(typeof(PartitionedBatcherOptions<int, int, int>), OptionTarget.Partitioned, "");
        Options(typeof(DataLoaderOptions), OptionTarget.DataLoader, "");
        Options(typeof(BatcherOptions), OptionTarget.Hosting, "");
        Options(typeof(RetryPolicy), OptionTarget.Hosting, "Retry:");

        var covered = OptionMatrix.All.Select(c => $"{c.Target}.{c.Option}").ToHashSet();
        string[] missing = [.. expected.Where(e => !covered.Contains(e))];
        int options = covered.Count;
        string line = $"boundary: cases={OptionMatrix.All.Count} options={options} "
            + $"refused={OptionMatrix.All.Count(c => !c.Valid)} working={OptionMatrix.All.Count(c => c.Valid)}";
        output.WriteLine(line);
        SuiteFigures.Record(line);
        Assert.True(missing.Length == 0, "options without boundary cases: " + string.Join(", ", missing));
    }

    /// <summary>The refusal: an ArgumentOutOfRangeException whose message names the option (its last name segment).</summary>
    private static void AssertRefused(OptionCase c, Action construct)
    {
        ArgumentOutOfRangeException ex = Assert.Throws<ArgumentOutOfRangeException>(construct);
        Assert.Contains(ShortName(c.Option), ex.Message, StringComparison.Ordinal);
    }

    private static string ShortName(string option) => option[(option.LastIndexOfAny(['.', ':']) + 1)..];
}
