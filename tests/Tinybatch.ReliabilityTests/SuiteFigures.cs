namespace Tinybatch.ReliabilityTests;

/// <summary>Appends the suite's figures to TestResults/reliability.txt (at the repository root) and stdout.</summary>
public static class SuiteFigures
{
    private static readonly object Gate = new();

    public static void Record(string line)
    {
        Console.Out.WriteLine(line);
        lock (Gate)
        {
            ResultsFile.Append("reliability.txt", line);
        }
    }
}
