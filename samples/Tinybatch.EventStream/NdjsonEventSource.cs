using System.Globalization;
using System.Text.Json;

namespace Tinybatch.EventStream;

/// <summary>
/// Reads events from NDJSON (one JSON object per line) in a file or on stdin. Blank lines are skipped; the event's
/// kind is its "type" property when it has one. A line that is not a JSON object stops intake with an error naming the line.
/// </summary>
internal sealed class NdjsonEventSource : IEventSource
{
    private readonly string? _path;
    private readonly Func<TextReader> _open;

    private NdjsonEventSource(string? path, Func<TextReader> open)
    {
        _path = path;
        _open = open;
    }

    /// <inheritdoc/>
    public long? Count => null;

    /// <inheritdoc/>
    public string Description => _path is null ? "NDJSON events from stdin" : $"NDJSON events from {Path.GetFullPath(_path)}";

    /// <inheritdoc/>
    public bool CanReplay => _path is not null;

    /// <summary>Reads from a file.</summary>
    /// <param name="path">The NDJSON file.</param>
    /// <returns>The source.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static NdjsonEventSource FromFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The NDJSON input file '{path}' does not exist.", path);
        }

        return new NdjsonEventSource(path, () => new StreamReader(path));
    }

    /// <summary>Reads from a reader (stdin); it can be read once only.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The source.</returns>
    public static NdjsonEventSource FromReader(TextReader reader) => new(null, () => reader);

    /// <inheritdoc/>
    public async Task ProduceAsync(Func<StreamEvent, ValueTask> add, CancellationToken stop)
    {
        // One reader, one producer: lines arrive in order, and the ids follow them.
        using TextReader reader = _open();
        long id = 0;
        long lineNumber = 0;
        while (!stop.IsCancellationRequested && await reader.ReadLineAsync(CancellationToken.None) is { } line)
        {
            lineNumber++;
            if (TryParse(line, lineNumber, ref id) is { } evt)
            {
                await add(evt);
            }
        }
    }

    /// <inheritdoc/>
    public IEnumerable<StreamEvent> Replay()
    {
        if (_path is null)
        {
            throw new InvalidOperationException("NDJSON read from stdin cannot be read twice; give --input a file to use --compare.");
        }

        using var reader = new StreamReader(_path);
        long id = 0;
        long lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (TryParse(line, lineNumber, ref id) is { } evt)
            {
                yield return evt;
            }
        }
    }

    private static StreamEvent? TryParse(string line, long lineNumber, ref long id)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return null;
        }

        string kind = "event";
        try
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"NDJSON line {lineNumber} is a JSON {doc.RootElement.ValueKind}, not an object."));
            }

            if (doc.RootElement.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String)
            {
                kind = type.GetString()!;
            }
        }
        catch (JsonException ex)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"NDJSON line {lineNumber} is not valid JSON: {ex.Message}"), ex);
        }

        id++;
        return new StreamEvent(id, kind, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), EventPayload.FromJson(line.Trim()));
    }
}
