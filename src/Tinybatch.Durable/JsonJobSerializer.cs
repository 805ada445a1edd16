using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Tinybatch.Durable;

/// <summary>
/// The default serializer: System.Text.Json with the metadata of a source-generated <see cref="JsonTypeInfo{T}"/>,
/// so it needs no reflection and works with trimming and native AOT.
/// </summary>
/// <typeparam name="TJob">The job type.</typeparam>
public sealed class JsonJobSerializer<TJob> : IJobSerializer<TJob>
{
    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private readonly JsonTypeInfo<TJob> _typeInfo;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="typeInfo">The job type's metadata, for example <c>MyJsonContext.Default.MyJob</c>.</param>
    public JsonJobSerializer(JsonTypeInfo<TJob> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        _typeInfo = typeInfo;
    }

    /// <inheritdoc/>
    public void Serialize(TJob job, IBufferWriter<byte> destination)
    {
        var writer = t_writer;
        if (writer is null)
        {
            writer = t_writer = new Utf8JsonWriter(destination);
        }
        else
        {
            writer.Reset(destination);
        }

        JsonSerializer.Serialize(writer, job, _typeInfo);
        writer.Flush();
        writer.Reset();
    }

    /// <inheritdoc/>
    public TJob Deserialize(ReadOnlySpan<byte> data) => JsonSerializer.Deserialize(data, _typeInfo)!;
}
