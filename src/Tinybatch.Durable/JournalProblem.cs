using System.Diagnostics;

namespace Tinybatch.Durable;

/// <summary>A problem the journal met and handled: what, where, and how many bytes it cost.</summary>
[DebuggerDisplay("{Kind}: {Message}")]
public sealed class JournalProblem
{
    internal JournalProblem(JournalProblemKind kind, string path, long offset, long bytes, string message, Exception? exception = null)
    {
        Kind = kind;
        Path = path;
        Offset = offset;
        Bytes = bytes;
        Message = message;
        Exception = exception;
    }

    /// <summary>Gets what went wrong.</summary>
    public JournalProblemKind Kind { get; }

    /// <summary>Gets the segment file concerned.</summary>
    public string Path { get; }

    /// <summary>Gets the byte offset in the file where the problem starts.</summary>
    public long Offset { get; }

    /// <summary>Gets how many bytes were cut off, set aside or not written.</summary>
    public long Bytes { get; }

    /// <summary>Gets a sentence describing the problem.</summary>
    public string Message { get; }

    /// <summary>Gets the exception behind the problem, if any.</summary>
    public Exception? Exception { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Kind}: {Message}";
}
