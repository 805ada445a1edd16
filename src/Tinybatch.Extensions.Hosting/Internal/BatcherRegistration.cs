namespace Tinybatch.Extensions.Hosting.Internal;

/// <summary>What <c>AddBatcher</c> and its builder recorded about one named batcher.</summary>
internal sealed class BatcherRegistration<TJob, TResult>(string name)
{
    public string Name { get; } = name;

    /// <summary>The configuration section bound, if any: the validator re-reads it to report values that did not parse.</summary>
    public string? SectionPath { get; set; }

    /// <summary>The handler, given the service provider of the batch's own scope.</summary>
    public Func<IServiceProvider, Batch<TJob, TResult>, CancellationToken, ValueTask>? Handler { get; private set; }

    public void SetHandler(Func<IServiceProvider, Batch<TJob, TResult>, CancellationToken, ValueTask> handler)
    {
        if (Handler is not null)
        {
            throw new InvalidOperationException($"Batcher '{Name}' already has a handler; call WithHandler once.");
        }

        Handler = handler;
    }
}
