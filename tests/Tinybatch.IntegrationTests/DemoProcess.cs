using System.Diagnostics;
using System.Text;

namespace Tinybatch.IntegrationTests;

/// <summary>Runs the built demo (copied next to the tests by the project reference) as a child process.</summary>
internal sealed class DemoProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _firstProgress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DemoProcess(IEnumerable<string> args, IDictionary<string, string?>? environment, bool defaultSigint)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // A shell without job control starts background commands with SIGINT ignored, and children inherit that:
        // .NET then never sees Ctrl+C. env (coreutils 8.31+) restores the default, then execs dotnet (same pid).
        if (defaultSigint)
        {
            start.FileName = "/usr/bin/env";
            start.ArgumentList.Add("--default-signal=INT");
            start.ArgumentList.Add("dotnet");
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Tinybatch.EventStream.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach ((string key, string? value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[key] = value;
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public Task FirstProgressLine => _firstProgress.Task;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static DemoProcess Start(IEnumerable<string> args, IDictionary<string, string?>? environment = null, bool defaultSigint = false) =>
        new(args, environment, defaultSigint);

    /// <summary>Runs the demo to its end, with a generous hang guard.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        using DemoProcess demo = Start(args);
        int exitCode = await demo.WaitForExitAsync();
        return (exitCode, demo.Output);
    }

    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        _process.WaitForExit(); // flushes the redirected streams
        return _process.ExitCode;
    }

    /// <summary>Sends SIGINT, which is what Ctrl+C delivers.</summary>
    public void Interrupt()
    {
        using Process kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (line.StartsWith("progress:", StringComparison.Ordinal))
        {
            _firstProgress.TrySetResult();
        }
    }
}
