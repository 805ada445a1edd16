namespace Tinybatch.EventStream;

/// <summary>One event of the stream, as it travels through the batcher into the store.</summary>
/// <param name="Id">Sequential id, from 1: the store's primary key, and how missing events are named.</param>
/// <param name="Kind">The event type ("page_view", "purchase", ...).</param>
/// <param name="CreatedUnixMs">When the event happened, in Unix milliseconds.</param>
/// <param name="Payload">The event body, a JSON object of varying size, written as UTF-8 by the store.</param>
/// <param name="AddedTimestamp">
/// <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> when the event was handed to the batcher: latency runs from
/// here to the commit of its batch's transaction.
/// </param>
internal readonly record struct StreamEvent(long Id, string Kind, long CreatedUnixMs, EventPayload Payload, long AddedTimestamp = 0);
