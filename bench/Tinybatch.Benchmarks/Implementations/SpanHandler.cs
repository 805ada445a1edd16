namespace Tinybatch.Benchmarks.Implementations;

/// <summary>The batch handler the anchors' pipelines call, whatever collection their library hands out.</summary>
internal delegate void SpanHandler<T>(ReadOnlySpan<T> items);
