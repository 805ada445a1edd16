using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace Tinybatch.Tests;

/// <summary>
/// No library code blocks on a task: <c>.GetAwaiter().GetResult()</c>, <c>.Result</c> and <c>.Wait()</c> in
/// <c>src/</c> are allowed only on a value checked complete just before (<c>if (x.IsCompleted...)</c> or
/// <c>x.IsCompleted... ?</c>), which reads a finished result and never waits.
/// </summary>
public partial class SyncOverAsyncTests
{
    /// <summary>How many lines above a blocking-looking call its completion check may be.</summary>
    private const int GuardWindow = 15;

    [Fact]
    public void Sources_NoBlockingWaitOnATask_UnlessCheckedCompleteJustBefore()
    {
        string src = Path.Combine(RepoRoot(), "src");
        var offenders = new List<string>();
        int scanned = 0;
        foreach (string file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                continue;
            }

            scanned++;
            offenders.AddRange(FindBlockingCalls(File.ReadAllLines(file)).Select(line => $"{Path.GetRelativePath(src, file)}:{line}"));
        }

        Assert.True(scanned > 20, $"only {scanned} source files were scanned under {src}");
        Assert.True(offenders.Count == 0, "Blocking on a task in src/ (await it instead):\n" + string.Join('\n', offenders));
    }

    [Theory]
    [InlineData("var x = task.Result;", true)]
    [InlineData("run.AsTask().GetAwaiter().GetResult();", true)]
    [InlineData("_ = run.IsCompleted ? run.Result : run.AsTask().GetAwaiter().GetResult();", true)]
    [InlineData("pending.Wait();", true)]
    [InlineData("if (!pending.IsCompleted)\n{\n    pending.Wait();\n}", true)]
    [InlineData("if (pending.IsCompleted)\n{\n    pending.GetAwaiter().GetResult();\n}", false)]
    [InlineData("if (load.IsCompletedSuccessfully)\n{\n    values[i] = load.Result;\n}", false)]
    [InlineData("await x.WaitAsync(token);", false)]
    [InlineData("/// <see cref=\"Batch.Result\"/> is not code", false)]
    public void FindBlockingCalls_Samples_FlagsOnlyUncheckedWaits(string code, bool flagged)
    {
        Assert.Equal(flagged, FindBlockingCalls(code.Split('\n')).Any());
    }

    private static IEnumerable<int> FindBlockingCalls(string[] lines)
    {
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimStart();
            if (line.StartsWith("//", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (Match call in BlockingCall().Matches(line))
            {
                string receiver = call.Groups["receiver"].Value;
                bool viaAsTask = call.Groups["astask"].Success;
                if (viaAsTask || !CheckedCompleteBefore(lines, i, receiver))
                {
                    yield return i + 1;
                    break;
                }
            }
        }
    }

    private static bool CheckedCompleteBefore(string[] lines, int index, string receiver)
    {
        var check = new Regex($@"(\bif \({Regex.Escape(receiver)}\.IsCompleted(Successfully)?\b|\b{Regex.Escape(receiver)}\.IsCompleted(Successfully)? \?)");
        for (int i = Math.Max(0, index - GuardWindow); i <= index; i++)
        {
            if (check.IsMatch(lines[i]))
            {
                return true;
            }
        }

        return false;
    }

    private static string RepoRoot() => RepositoryRoot.Require();

    [GeneratedRegex(@"(?<receiver>\w+)(?<astask>\.AsTask\(\))?\.(GetAwaiter\(\)\.GetResult\(\)|Result\b(?!\w)|Wait\()")]
    private static partial Regex BlockingCall();
}
