using System.Globalization;
using System.Text;

namespace Tinybatch.EventStream;

/// <summary>
/// An event's JSON body, written as UTF-8 straight into the store's buffer. A generated event keeps a reference to
/// one of the generator's bodies, already in UTF-8, and its own id, spliced in as the first field when written: making
/// an event allocates nothing, and writing it is a copy. An NDJSON event keeps its line.
/// </summary>
internal readonly struct EventPayload : IEquatable<EventPayload>
{
    private static readonly byte[] IdPrefix = "{\"id\":"u8.ToArray();

    /// <summary>The line of an NDJSON event, or the UTF-8 body (a JSON object) of a generated one.</summary>
    private readonly object _source;
    private readonly long _id;

    private EventPayload(object source, long id)
    {
        _source = source;
        _id = id;
    }

    /// <summary>Gets the most bytes <see cref="WriteUtf8"/> writes.</summary>
    public int MaxUtf8Length => _source switch
    {
        string json => Encoding.UTF8.GetMaxByteCount(json.Length),
        byte[] body => IdPrefix.Length + 20 + body.Length,
        _ => 0,
    };

    /// <summary>A payload given as JSON text (an NDJSON line).</summary>
    /// <param name="json">The JSON object.</param>
    /// <returns>The payload.</returns>
    public static EventPayload FromJson(string json) => new(json, 0);

    /// <summary>A generated payload: <c>{"id":ID,</c> followed by the body without its opening brace.</summary>
    /// <param name="id">The event's id.</param>
    /// <param name="bodyUtf8">A JSON object with at least one field, in UTF-8; shared, never changed.</param>
    /// <returns>The payload.</returns>
    public static EventPayload Generated(long id, byte[] bodyUtf8) => new(bodyUtf8, id);

    /// <summary>Writes the JSON as UTF-8.</summary>
    /// <param name="destination">At least <see cref="MaxUtf8Length"/> bytes.</param>
    /// <returns>The bytes written.</returns>
    public int WriteUtf8(Span<byte> destination)
    {
        if (_source is string json)
        {
            return Encoding.UTF8.GetBytes(json, destination);
        }

        byte[] body = (byte[])_source;
        IdPrefix.CopyTo(destination);
        int written = IdPrefix.Length;
        _id.TryFormat(destination[written..], out int digits, provider: CultureInfo.InvariantCulture);
        written += digits;
        destination[written++] = (byte)',';
        body.AsSpan(1).CopyTo(destination[written..]);
        return written + body.Length - 1;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        if (_source is string json)
        {
            return json;
        }

        byte[] buffer = new byte[MaxUtf8Length];
        return Encoding.UTF8.GetString(buffer, 0, WriteUtf8(buffer));
    }

    /// <inheritdoc/>
    public bool Equals(EventPayload other) => ReferenceEquals(_source, other._source) && _id == other._id;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is EventPayload other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_source, _id);
}
