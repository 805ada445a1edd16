using System.Buffers;

namespace Tinybatch.Durable.Internal;

/// <summary>A growable buffer one producer builds a record in (reused per thread), so serializing needs no lock.</summary>
internal sealed class RecordBuffer : IBufferWriter<byte>
{
    [ThreadStatic]
    private static RecordBuffer? t_current;

    private byte[] _buffer = new byte[1024];
    private int _written;

    /// <summary>Gets this thread's buffer.</summary>
    public static RecordBuffer ForCurrentThread => t_current ??= new RecordBuffer();

    public Span<byte> WrittenSpanMutable => _buffer.AsSpan(0, _written);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public int WrittenCount => _written;

    public void Reset()
    {
        // A huge record once must not pin a huge buffer to the thread for ever.
        if (_buffer.Length > 1024 * 1024)
        {
            _buffer = new byte[1024];
        }

        _written = 0;
    }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_written + count > _buffer.Length)
        {
            throw new InvalidOperationException("The serializer advanced past the buffer it was given.");
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written < needed)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _written + needed));
        }
    }
}
