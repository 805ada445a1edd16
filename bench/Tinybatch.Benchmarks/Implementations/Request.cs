namespace Tinybatch.Benchmarks.Implementations;

/// <summary>What an anchor queues for a request/response item: the id and the promise the handler completes.</summary>
internal readonly record struct Request(long Id, TaskCompletionSource<long> Promise);
