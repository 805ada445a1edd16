using System.Globalization;
using System.Text;

namespace Tinybatch.EventStream;

/// <summary>
/// Makes realistic JSON event payloads of varying size (about 80 to 1,200 characters). Event <c>n</c> is always the
/// same event, whoever generates it: the per-row baseline of <c>--compare</c> writes exactly what the batched run wrote.
/// </summary>
internal static class EventGenerator
{
    private static readonly string[] Kinds = ["page_view", "click", "search", "add_to_cart", "purchase", "signup", "error"];
    private static readonly string[] Paths = ["/", "/products", "/products/42", "/cart", "/checkout", "/search", "/account", "/blog/batching"];
    private static readonly string[] Agents =
    [
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36",
        "okhttp/4.12.0",
    ];

    private static readonly string[] Words = ["batch", "queue", "latency", "commit", "durable", "stream", "sqlite", "postgres", "copy", "flush"];

    /// <summary>A fixed epoch, so generated runs are reproducible: 2026-01-01T00:00:00Z.</summary>
    private const long EpochUnixMs = 1_767_225_600_000;

    /// <summary>How many distinct event bodies are made up front; each event picks one and prefixes its own id.</summary>
    private const int BodyCount = 4096;

    // Formatting a body costs microseconds, and even copying it into a new string per event costs the producers more
    // than the store takes to write it, plus the garbage. So bodies are made once, in UTF-8, and an event is its id plus
    // a reference to a body picked by hashing the id; the store splices the id in as it writes the payload.
    private static readonly Lazy<(string Kind, byte[] Body)[]> Bodies = new(() =>
        Enumerable.Range(0, BodyCount)
            .Select(i => CreateBody(Mix((ulong)i + 0x5EED)))
            .Select(b => (b.Kind, Encoding.UTF8.GetBytes(b.Body)))
            .ToArray());

    /// <summary>Creates event <paramref name="id"/>; it allocates nothing.</summary>
    /// <param name="id">The event's id, from 1.</param>
    /// <returns>The event, not yet stamped with its add time.</returns>
    public static StreamEvent Create(long id)
    {
        (string kind, byte[] body) = Bodies.Value[(int)(Mix((ulong)id) % BodyCount)];
        return new StreamEvent(id, kind, EpochUnixMs + (id * 7), EventPayload.Generated(id, body));
    }

    private static (string Kind, string Body) CreateBody(ulong h)
    {
        string kind = Kinds[(int)(h % (ulong)Kinds.Length)];
        var sb = new StringBuilder(256);
        var inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"{{\"type\":\"{kind}\",\"user\":{(h >> 8) % 100_000},\"session\":\"{h >> 16:x12}\",\"path\":\"{Paths[(int)((h >> 24) % (ulong)Paths.Length)]}\"");
        switch (kind)
        {
            case "purchase":
            case "add_to_cart":
                int items = 1 + (int)((h >> 32) % 8);
                sb.Append(",\"items\":[");
                for (int i = 0; i < items; i++)
                {
                    ulong item = Mix(h + (ulong)i);
                    sb.Append(inv, $"{(i == 0 ? "" : ",")}{{\"sku\":\"SKU-{item % 10_000:D5}\",\"qty\":{1 + (item >> 20) % 4},\"price\":{(item >> 24) % 50_000 / 100.0:F2}}}");
                }

                sb.Append(']');
                break;
            case "search":
                sb.Append(inv, $",\"query\":\"{Words[(int)((h >> 32) % 10)]} {Words[(int)((h >> 40) % 10)]}\",\"results\":{(h >> 48) % 500}");
                break;
            case "error":
                int frames = 2 + (int)((h >> 32) % 12);
                sb.Append(",\"message\":\"connection reset by peer\",\"stack\":[");
                for (int i = 0; i < frames; i++)
                {
                    sb.Append(inv, $"{(i == 0 ? "" : ",")}\"at Shop.Checkout.Step{i}(Order order) in /src/Checkout.cs:line {100 + (i * 17)}\"");
                }

                sb.Append(']');
                break;
            default:
                sb.Append(inv, $",\"agent\":\"{Agents[(int)((h >> 32) % (ulong)Agents.Length)]}\",\"duration_ms\":{(h >> 40) % 5_000}");
                break;
        }

        sb.Append('}');
        return (kind, sb.ToString());
    }

    /// <summary>SplitMix64's finalizer: a cheap, well-spread hash of the id.</summary>
    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
        return x ^ (x >> 31);
    }
}
