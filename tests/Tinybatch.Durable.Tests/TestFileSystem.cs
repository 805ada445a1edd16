using Tinybatch.Durable.Internal;

namespace Tinybatch.Durable.Tests;

/// <summary>The real file system, with counted flushes, a gate that can hold a flush, and a simulated full disk.</summary>
internal sealed class TestFileSystem : JournalFileSystem
{
    private long _flushes;

    /// <summary>Gets how many flushes the journal asked for (one per commit, plus one per new segment header).</summary>
    public long Flushes => Interlocked.Read(ref _flushes);

    /// <summary>Gets or sets how many more bytes the disk takes; null means unlimited.</summary>
    public long? FreeBytes { get; set; }

    /// <summary>Gets or sets a gate every flush waits on (null: none).</summary>
    public ManualResetEventSlim? FlushGate { get; set; }

    /// <summary>Gets a signal set when a flush is waiting at the gate.</summary>
    public ManualResetEventSlim FlushWaiting { get; } = new();

    public override Stream Create(string path) => new LimitedStream(base.Create(path), this);

    public override void Flush(Stream stream, bool toDisk)
    {
        Interlocked.Increment(ref _flushes);
        if (FlushGate is { } gate)
        {
            FlushWaiting.Set();
            if (!gate.Wait(HangGuard.Timeout))
            {
                throw new TimeoutException("The test never opened the flush gate.");
            }
        }

        base.Flush(((LimitedStream)stream).Inner, toDisk);
    }

    private sealed class LimitedStream(Stream inner, TestFileSystem owner) : Stream
    {
        public Stream Inner => inner;

        public override bool CanRead => false;

        public override bool CanSeek => true;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => inner.Position = value; }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (owner.FreeBytes is { } free)
            {
                if (buffer.Length > free)
                {
                    // Like a real full disk: part of the write lands, then ENOSPC.
                    inner.Write(buffer[..(int)free]);
                    owner.FreeBytes = 0;
                    throw new IOException("No space left on device", 28);
                }

                owner.FreeBytes = free - buffer.Length;
            }

            inner.Write(buffer);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value) => inner.SetLength(value);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
