using Tinybatch.EventStream;

namespace Tinybatch.IntegrationTests;

public sealed class DemoOptionsParserTests
{
    [Fact]
    public void Parse_NoArguments_UsesTheDocumentedDefaults()
    {
        DemoOptions options = DemoOptionsParser.Parse([]);

        Assert.Null(options.Events);
        Assert.Equal(1000, options.Settings.BatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(50), options.Settings.Delay);
        Assert.Equal(2, options.Producers);
        Assert.Null(options.Postgres);
        Assert.False(options.Compare);
        Assert.False(options.Sweep);
    }

    [Fact]
    public void Parse_EveryOption_IsRead()
    {
        DemoOptions options = DemoOptionsParser.Parse(
        [
            "--events", "1,000", "--batch-size=250", "--delay", "7", "--capacity", "5000", "--producers", "3",
            "--concurrency", "4", "--postgres", "Host=h", "--table", "t1", "--compare", "--baseline-events", "99",
            "--baseline-seconds", "3", "--plain",
        ]);

        Assert.Equal(1000, options.Events);
        Assert.Equal(new RunSettings(250, TimeSpan.FromMilliseconds(7), 5000, 4), options.Settings);
        Assert.Equal(3, options.Producers);
        Assert.Equal("Host=h", options.Postgres);
        Assert.Equal("t1", options.Table);
        Assert.True(options.Compare);
        Assert.Equal(99, options.BaselineEvents);
        Assert.Equal(TimeSpan.FromSeconds(3), options.BaselineBudget);
        Assert.True(options.Plain);
    }

    [Fact]
    public void Parse_SweepSizes_AreRead()
    {
        DemoOptions options = DemoOptionsParser.Parse(["--sweep", "--sweep-sizes", "1, 50,500"]);

        Assert.True(options.Sweep);
        Assert.Equal([1, 50, 500], options.SweepSizes);
    }

    [Fact]
    public void Parse_Help_AsksForTheUsage()
    {
        Assert.True(DemoOptionsParser.Parse(["--help"]).Help);
        Assert.True(DemoOptionsParser.Parse(["-h"]).Help);
        Assert.False(DemoOptionsParser.Parse([]).Help);
    }

    [Fact]
    public void Usage_ListsEveryOptionWithItsDefault()
    {
        string usage = DemoOptionsParser.Usage;

        string[] options =
        [
            "--events", "--input", "--batch-size", "--delay", "--capacity", "--producers", "--concurrency", "--postgres", "--db", "--sync",
            "--table", "--compare", "--baseline-events", "--baseline-seconds", "--sweep", "--sweep-sizes", "--sweep-seconds", "--chart",
            "--plain", "--help",
        ];
        Assert.All(options, option => Assert.Contains(option, usage, StringComparison.Ordinal));
        Assert.Matches(@"--batch-size <N>\s+.*\[default: 1000\]", usage);
        Assert.Matches(@"--delay <MS>\s+.*\[default: 50\]", usage);
        Assert.Matches(@"--capacity <N>\s+.*\[default: 4000\]", usage);
        Assert.Matches(@"--producers <N>\s+.*\[default: 2\]", usage);
        Assert.Matches(@"--sync <full\|normal>\s+.*\[default: Full\]", usage);
        Assert.Contains("default 1,000,000", usage, StringComparison.Ordinal);
        Assert.DoesNotContain("--version", usage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Unknown option '--nope'", "--nope")]
    [InlineData("Option --events needs a value", "--events")]
    [InlineData("Option --events needs a whole number of at least 0, but got 'many'", "--events", "many")]
    [InlineData("Option --batch-size needs a whole number of at least 1, but got '0'", "--batch-size", "0")]
    [InlineData("Table name 'x;drop' must be", "--table", "x;drop")]
    [InlineData("--sweep and --compare cannot be combined", "--sweep", "--compare")]
    [InlineData("Option --sync needs 'normal' or 'full', but got 'sometimes'", "--sync", "sometimes")]
    [InlineData("Option --events needs a whole number of at least 0, but got 'x'. Option --delay needs a whole number of at least 0, but got '-1'", "--events", "x", "--delay=-1")]
    [InlineData("give --input a file, not stdin", "--compare", "--input", "-")]
    public void Parse_BadArguments_ThrowsNamingTheProblem(string expected, params string[] args)
    {
        ArgumentException error = Assert.ThrowsAny<ArgumentException>(() => DemoOptionsParser.Parse(args));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
