using System.Text.Json.Serialization;

namespace Tinybatch.EventStream.Durable;

/// <summary>An event as the durable demo journals it: the event id is the store's primary key, so replays are harmless.</summary>
/// <param name="Id">The event id, unique across runs.</param>
/// <param name="Kind">The event type.</param>
/// <param name="CreatedUnixMs">When the event happened.</param>
/// <param name="Payload">The event body.</param>
internal sealed record DurableEvent(long Id, string Kind, long CreatedUnixMs, string Payload)
{
    private static readonly string[] Kinds = ["page_view", "click", "purchase", "signup", "search"];

    public static DurableEvent Create(long id) =>
        new(id, Kinds[id % Kinds.Length], 1_767_225_600_000 + id, $"{{\"user\":{id % 9973},\"session\":\"s{id % 131}\",\"value\":{id % 1000}}}");
}

/// <summary>Source-generated JSON metadata: the journal's default serializer needs no reflection.</summary>
[JsonSerializable(typeof(DurableEvent))]
internal sealed partial class DurableEventJson : JsonSerializerContext;
