using System.Runtime.InteropServices;

namespace Tinybatch.Internal;

/// <summary>
/// A long alone on its cache line (with a line of padding on each side, for adjacent-line prefetch), for a value that
/// producers write on every add while other threads write its neighbours.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal struct PaddedLong
{
    [FieldOffset(64)]
    public long Value;
}

/// <summary>
/// The consumer's own cursor, on a cache line of its own: it changes with every job taken, and producers read the
/// intake's other fields (the ring, its mask, the capacity) on every add.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal struct ConsumerCursor
{
    /// <summary>The position of the next ring slot to read.</summary>
    [FieldOffset(64)]
    public long RingHead;

    /// <summary>The positions that left the queue (see <c>Intake.Left</c>).</summary>
    [FieldOffset(72)]
    public long Left;
}

/// <summary>
/// A counter spread over one cache line per processor: producers on different cores never contend on it. Reading it
/// sums the cells, so it is monotonic but not a single atomic snapshot.
/// </summary>
internal sealed class StripedCounter
{
    private const int Stride = 16; // longs per cell: 128 bytes
    private readonly long[] _cells;
    private readonly int _mask;

    public StripedCounter()
    {
        int cells = 1;
        while (cells < Environment.ProcessorCount && cells < 64)
        {
            cells <<= 1;
        }

        _mask = cells - 1;
        _cells = new long[(cells + 1) * Stride];
    }

    public void Increment() => Interlocked.Increment(ref _cells[((Thread.GetCurrentProcessorId() & _mask) + 1) * Stride]);

    public long Value
    {
        get
        {
            long sum = 0;
            for (int i = 1; i <= _mask + 1; i++)
            {
                sum += Volatile.Read(ref _cells[i * Stride]);
            }

            return sum;
        }
    }
}
