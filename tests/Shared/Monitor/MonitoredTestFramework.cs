// Compiled into every test project by tests/Directory.Build.props, which also sets [assembly: TestFramework] to it.
using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Tinybatch;

/// <summary>
/// xunit's framework with one addition: after the last test of the assembly, it forces the finalization of dropped
/// tasks and fails the assembly ("Test Assembly Cleanup Failure", a non-zero exit of <c>dotnet test</c>) if
/// <see cref="UnhandledExceptionMonitor"/> recorded any exception that escaped during the run.
/// </summary>
public sealed class MonitoredTestFramework(IMessageSink messageSink) : XunitTestFramework(messageSink)
{
    protected override ITestFrameworkExecutor CreateExecutor(AssemblyName assemblyName) =>
        new Executor(assemblyName, SourceInformationProvider, DiagnosticMessageSink);

    private sealed class Executor(AssemblyName assemblyName, ISourceInformationProvider sourceInformationProvider, IMessageSink diagnosticMessageSink)
        : XunitTestFrameworkExecutor(assemblyName, sourceInformationProvider, diagnosticMessageSink)
    {
        protected override async void RunTestCases(
            IEnumerable<IXunitTestCase> testCases, IMessageSink executionMessageSink, ITestFrameworkExecutionOptions executionOptions)
        {
            using var runner = new Runner(TestAssembly, testCases, DiagnosticMessageSink, executionMessageSink, executionOptions);
            await runner.RunAsync();
        }
    }

    private sealed class Runner(
        ITestAssembly testAssembly,
        IEnumerable<IXunitTestCase> testCases,
        IMessageSink diagnosticMessageSink,
        IMessageSink executionMessageSink,
        ITestFrameworkExecutionOptions executionOptions)
        : XunitTestAssemblyRunner(testAssembly, testCases, diagnosticMessageSink, executionMessageSink, executionOptions)
    {
        protected override Task BeforeTestAssemblyFinishedAsync()
        {
            string scope = $"the tests of {Path.GetFileNameWithoutExtension(TestAssembly.Assembly.AssemblyPath)}";
            if (UnhandledExceptionMonitor.Verdict(scope, UnhandledExceptionMonitor.Collect()) is { } failure)
            {
                // At normal verbosity the console logger prints only the exception's type: the details go to a file too.
                ResultsFile.Append("escaped.txt", failure.Message);
                Aggregator.Add(failure);
            }

            return base.BeforeTestAssemblyFinishedAsync();
        }
    }
}
