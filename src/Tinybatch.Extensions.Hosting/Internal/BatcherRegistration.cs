namespace Tinybatch.Extensions.Hosting.Internal;

/// <summary>What <c>AddBatcher</c> and its builder recorded about one named batcher, whatever its kind.</summary>
internal abstract class BatcherRegistration(string name)
{
    public string Name { get; } = name;

    /// <summary>The configuration section bound, if any: the validator re-reads it to report values that did not parse.</summary>
    public string? SectionPath { get; set; }

    public abstract bool HasHandler { get; }
}

/// <summary>
/// One named batcher whose handler receives <typeparamref name="TBatch"/>: <see cref="Batch{TJob, TResult}"/> for a
/// <see cref="Batcher{TJob, TResult}"/>, <see cref="Batch{TJob}"/> for a <see cref="Batcher{TJob}"/>. The batch type
/// tells the two kinds apart in the container, so both kinds of one job type may share a name.
/// </summary>
internal sealed class BatcherRegistration<TBatch>(string name) : BatcherRegistration(name)
{
    /// <summary>The handler, given the service provider of the batch's own scope.</summary>
    public Func<IServiceProvider, TBatch, CancellationToken, ValueTask>? Handler { get; private set; }

    public override bool HasHandler => Handler is not null;

    public void SetHandler(Func<IServiceProvider, TBatch, CancellationToken, ValueTask> handler)
    {
        if (Handler is not null)
        {
            throw new InvalidOperationException($"Batcher '{Name}' already has a handler; call WithHandler once.");
        }

        Handler = handler;
    }
}
