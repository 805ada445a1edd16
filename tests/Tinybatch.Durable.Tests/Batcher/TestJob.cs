using System.Text.Json.Serialization;

namespace Tinybatch.Durable.Tests;

public sealed record TestJob(int Number, string Text);

[JsonSerializable(typeof(TestJob))]
internal sealed partial class TestJsonContext : JsonSerializerContext;
