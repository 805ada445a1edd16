using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace Tinybatch.Tests.Docs;

/// <summary>
/// Keeps the README honest: every C# block preceded by <c>&lt;!-- snippet: path#region --&gt;</c> must equal the region
/// between <c>// &lt;region&gt;</c> and <c>// &lt;/region&gt;</c> of that file, which the build compiles.
/// </summary>
public partial class ReadmeSnippetTests
{
    public static TheoryData<string, string> Snippets()
    {
        var data = new TheoryData<string, string>();
        foreach (Match match in SnippetMarker().Matches(Read("README.md")))
        {
            data.Add(match.Groups["path"].Value, match.Groups["region"].Value);
        }

        return data;
    }

    [Fact]
    public void Readme_HasSnippetMarkers_ForItsCSharpBlocks()
    {
        string readme = Read("README.md");
        int blocks = Regex.Count(readme, "^```csharp", RegexOptions.Multiline);
        int marked = SnippetMarker().Count(readme);
        Assert.True(marked >= 3, $"README.md has only {marked} snippet markers.");
        Assert.Equal(blocks, marked);
    }

    [Theory]
    [MemberData(nameof(Snippets))]
    public void ReadmeSnippet_MatchesCompiledSource(string path, string region)
    {
        string readme = Read("README.md");
        Match marker = Regex.Match(readme, $@"<!-- snippet: {Regex.Escape(path)}#{Regex.Escape(region)} -->\r?\n```csharp\r?\n(?<code>.*?)\r?\n```", RegexOptions.Singleline);
        Assert.True(marker.Success, $"No code block after the marker for {path}#{region}.");

        Match source = Regex.Match(Read(path), $@"// <{Regex.Escape(region)}>\r?\n(?<code>.*?)\r?\n[ \t]*// </{Regex.Escape(region)}>", RegexOptions.Singleline);
        Assert.True(source.Success, $"No region '{region}' in {path}.");
        Assert.Equal(Normalize(source.Groups["code"].Value), Normalize(marker.Groups["code"].Value));
    }

    /// <summary>Line endings, trailing spaces and the region's common indentation do not count.</summary>
    private static string Normalize(string code)
    {
        string[] lines = code.Replace("\r", "").Split('\n').Select(l => l.TrimEnd()).ToArray();
        int indent = lines.Where(l => l.Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l));
    }

    private static string Read(string relativePath) => File.ReadAllText(Path.Combine(RepoRoot(), relativePath));

    private static string RepoRoot() => RepositoryRoot.Require();

    [GeneratedRegex(@"<!-- snippet: (?<path>[^#\s]+)#(?<region>[\w-]+) -->")]
    private static partial Regex SnippetMarker();
}
