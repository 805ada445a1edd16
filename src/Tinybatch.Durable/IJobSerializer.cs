using System.Buffers;

namespace Tinybatch.Durable;

/// <summary>Turns jobs into the bytes the journal keeps, and back, for replay after a restart.</summary>
/// <remarks>Calls can overlap (one per adding thread): an implementation must be thread-safe.</remarks>
/// <typeparam name="TJob">The job type.</typeparam>
public interface IJobSerializer<TJob>
{
    /// <summary>Writes <paramref name="job"/> to <paramref name="destination"/>.</summary>
    /// <param name="job">The job.</param>
    /// <param name="destination">Where the bytes go.</param>
    void Serialize(TJob job, IBufferWriter<byte> destination);

    /// <summary>Reads a job written by <see cref="Serialize"/>, possibly by an earlier run of the program.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The job.</returns>
    TJob Deserialize(ReadOnlySpan<byte> data);
}
