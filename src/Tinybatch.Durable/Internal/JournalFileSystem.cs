namespace Tinybatch.Durable.Internal;

/// <summary>
/// The file operations of the journal, in one place so tests can inject faults (a full disk, a stalled flush) and count
/// flushes without touching real hardware.
/// </summary>
internal class JournalFileSystem
{
    public const string SegmentExtension = ".tbj";

    public static readonly JournalFileSystem Default = new();

    /// <summary>The segment files of <paramref name="directory"/>, oldest first.</summary>
    public virtual IReadOnlyList<string> ListSegments(string directory)
    {
        Directory.CreateDirectory(directory);
        var files = Directory.GetFiles(directory, "*" + SegmentExtension);
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    public virtual byte[] ReadAll(string path) => File.ReadAllBytes(path);

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/> of a file.</summary>
    public virtual byte[] ReadRange(string path, long offset, int length)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        byte[] data = new byte[length];
        int read = 0;
        while (read < length)
        {
            int n = RandomAccess.Read(handle, data.AsSpan(read), offset + read);
            if (n == 0)
            {
                throw new IOException($"'{path}' ends before offset {offset + length}.");
            }

            read += n;
        }

        return data;
    }

    /// <summary>Creates a new segment file for appending (unbuffered: every write is one system call).</summary>
    public virtual Stream Create(string path) =>
        new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);

    /// <summary>Makes what was written reach the operating system, or the disk when <paramref name="toDisk"/>.</summary>
    public virtual void Flush(Stream stream, bool toDisk)
    {
        if (stream is FileStream file)
        {
            file.Flush(toDisk);
        }
        else
        {
            stream.Flush();
        }
    }

    public virtual void Delete(string path) => File.Delete(path);

    /// <summary>Cuts a file to <paramref name="length"/> bytes (used to drop a torn or corrupt tail after reporting it).</summary>
    public virtual void Truncate(string path, long length)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        stream.SetLength(length);
        stream.Flush(true);
    }

    /// <summary>Moves a segment whose header cannot be read out of the way, keeping it for inspection.</summary>
    public virtual void SetAside(string path) => File.Move(path, path + ".corrupt", overwrite: true);
}
