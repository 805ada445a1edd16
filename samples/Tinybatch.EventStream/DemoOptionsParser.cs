using System.CommandLine;

namespace Tinybatch.EventStream;

/// <summary>
/// Parses the demo's command line with System.CommandLine (<see cref="DemoCommandLine"/> declares the options):
/// <c>--name value</c>, <c>--name=value</c> or <c>--name:value</c>, flags, and <c>--help</c>.
/// </summary>
internal static class DemoOptionsParser
{
    /// <summary>Gets the usage text: System.CommandLine's help, every option with its default.</summary>
    public static string Usage
    {
        get
        {
            var commandLine = new DemoCommandLine();
            var output = new StringWriter();
            commandLine.Command.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = output });
            return output.ToString().TrimEnd();
        }
    }

    /// <summary>Parses <paramref name="args"/>.</summary>
    /// <param name="args">The command line.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">An option is unknown, lacks its value, has a bad value, or does not combine
    /// with another; the message names every such problem.</exception>
    public static DemoOptions Parse(IReadOnlyList<string> args)
    {
        var commandLine = new DemoCommandLine();
        ParseResult result = commandLine.Command.Parse(args);
        if (result.UnmatchedTokens.Count > 0)
        {
            throw new ArgumentException($"Unknown option '{result.UnmatchedTokens[0]}'. Run with --help for the options.");
        }

        if (result.Errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", result.Errors.Select(e => e.Message).Distinct()));
        }

        DemoOptions options = commandLine.Bind(result);
        List<string> conflicts = Conflicts(options);
        return conflicts.Count == 0 ? options : throw new ArgumentException(string.Join(" ", conflicts));
    }

    private static List<string> Conflicts(DemoOptions options)
    {
        var conflicts = new List<string>();
        if (options.Sweep && options.Compare)
        {
            conflicts.Add("--sweep and --compare cannot be combined: run them one at a time.");
        }

        if (options.Sweep && options.Input is not null)
        {
            conflicts.Add("--sweep generates its events: it cannot be combined with --input.");
        }

        if (options.Compare && options.Input == "-")
        {
            conflicts.Add("--compare reads the events twice: give --input a file, not stdin.");
        }

        if (options.Input is not null && options.Events is not null)
        {
            conflicts.Add("--events counts generated events: it cannot be combined with --input.");
        }

        return conflicts;
    }
}
