// Compiled into each test project that writes a figure for the CI log (see the project files).
namespace Tinybatch;

/// <summary>
/// Finds TestResults/ at the repository root (the directory holding Tinybatch.sln, searched upwards from the test's
/// output folder), or under the current directory when the build output lives outside the repository.
/// </summary>
internal static class ResultsFile
{
    public static void Append(string fileName, string line)
    {
        string directory = Path.Combine(RepositoryRoot.Find() ?? Environment.CurrentDirectory, "TestResults");
        Directory.CreateDirectory(directory);
        File.AppendAllText(Path.Combine(directory, fileName), $"{DateTimeOffset.UtcNow:u} {line}{Environment.NewLine}");
    }
}

/// <summary>
/// The repository root: the directory holding Tinybatch.sln, searched upwards from the test's output folder. Source paths
/// from <c>[CallerFilePath]</c> cannot be used: CI builds map them to <c>/_/</c> (deterministic builds).
/// </summary>
internal static class RepositoryRoot
{
    public static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tinybatch.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    public static string Require() =>
        Find() ?? throw new InvalidOperationException("The repository root (Tinybatch.sln) was not found above " + AppContext.BaseDirectory);
}
