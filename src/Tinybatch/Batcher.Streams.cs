using System.Threading.Channels;
using Tinybatch.Internal;

namespace Tinybatch;

/// <summary>
/// Adding many jobs at once: from a sequence, an asynchronous stream or a channel. Under <see cref="OverflowPolicy.Wait"/>
/// and <see cref="OverflowPolicy.Reject"/>, and without a weigher, each add takes its place before the next item is read,
/// so an item is never taken from the source and then lost to a cancellation or a full buffer: it stays in the source.
/// </summary>
public sealed partial class Batcher<TJob, TResult>
{
    /// <summary>Adds fire-and-forget jobs in order, waiting for space as <see cref="AddAsync"/> does.</summary>
    /// <param name="jobs">The jobs.</param>
    /// <param name="cancellationToken">Stops adding: the jobs not yet accepted are left, and the count so far is returned.</param>
    /// <returns>How many jobs were accepted.</returns>
    /// <exception cref="BatcherStoppedException">The batcher is stopping or stopped.</exception>
    /// <exception cref="BatcherFullException">The buffer is full and the policy is <see cref="OverflowPolicy.Reject"/>.</exception>
    public ValueTask<long> AddRangeAsync(IEnumerable<TJob> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        return AddFromAsync(new EnumerableSource(jobs.GetEnumerator()), cancellationToken);
    }

    /// <summary>Adds every job of an asynchronous stream, in order, until it ends, waiting for space as <see cref="AddAsync"/> does.</summary>
    /// <param name="source">The stream.</param>
    /// <param name="cancellationToken">Stops reading the stream; the count so far is returned.</param>
    /// <returns>How many jobs were accepted.</returns>
    /// <exception cref="BatcherStoppedException">The batcher is stopping or stopped.</exception>
    /// <exception cref="BatcherFullException">The buffer is full and the policy is <see cref="OverflowPolicy.Reject"/>.</exception>
    public ValueTask<long> AddRangeAsync(IAsyncEnumerable<TJob> source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        return AddFromAsync(new AsyncEnumerableSource(source.GetAsyncEnumerator(cancellationToken)), cancellationToken);
    }

    /// <summary>Adds every job read from a channel, in order, until it is completed, waiting for space as <see cref="AddAsync"/> does.</summary>
    /// <param name="source">The channel's reader.</param>
    /// <param name="cancellationToken">Stops reading the channel; the count so far is returned.</param>
    /// <returns>How many jobs were accepted.</returns>
    /// <exception cref="BatcherStoppedException">The batcher is stopping or stopped.</exception>
    /// <exception cref="BatcherFullException">The buffer is full and the policy is <see cref="OverflowPolicy.Reject"/>.</exception>
    public ValueTask<long> AddRangeAsync(ChannelReader<TJob> source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        return AddFromAsync(new ChannelSource(source), cancellationToken);
    }

    private async ValueTask<long> AddFromAsync(ISource source, CancellationToken cancellationToken)
    {
        bool placeFirst = !_settings.Weighted && _settings.Overflow is OverflowPolicy.Wait or OverflowPolicy.Reject;
        long accepted = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                ThrowIfClosed();
                long position = 0;
                if (placeFirst && !_intake.TryClaim(1, out position))
                {
                    if (_settings.Overflow == OverflowPolicy.Reject)
                    {
                        CountRejected();
                        throw NewDroppedException(DeadLetterReason.Rejected);
                    }

                    position = await WaitForSpaceAsync(1, cancellationToken).ConfigureAwait(false);
                }

                (bool read, TJob job) = await ReadAsync(source, placeFirst, position, cancellationToken).ConfigureAwait(false);
                if (!read)
                {
                    break;
                }

                if (placeFirst)
                {
                    PublishOrThrow(position, job, 1, BatcherTelemetry.CaptureLink());
                }
                else
                {
                    // Read first: the job is handed over whatever happens to the caller's token meanwhile.
                    await AddAsync(job, CancellationToken.None).ConfigureAwait(false);
                }

                accepted++;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }

        return accepted;
    }

    /// <summary>Reads the next item; when the source ends or throws, the place taken for it is given back.</summary>
    private async ValueTask<(bool Read, TJob Job)> ReadAsync(ISource source, bool holdsPlace, long position, CancellationToken cancellationToken)
    {
        bool read = false;
        try
        {
            (read, TJob job) = await source.ReadAsync(cancellationToken).ConfigureAwait(false);
            return (read, job);
        }
        finally
        {
            if (holdsPlace && !read)
            {
                _intake.Refuse(position, 1);
            }
        }
    }

    /// <summary>Something to add jobs from, read one item at a time.</summary>
    private interface ISource : IAsyncDisposable
    {
        ValueTask<(bool Read, TJob Job)> ReadAsync(CancellationToken cancellationToken);
    }

    private sealed class EnumerableSource(IEnumerator<TJob> items) : ISource
    {
        public ValueTask<(bool Read, TJob Job)> ReadAsync(CancellationToken cancellationToken) =>
            new(items.MoveNext() ? (true, items.Current) : (false, default!));

        public ValueTask DisposeAsync()
        {
            items.Dispose();
            return default;
        }
    }

    private sealed class AsyncEnumerableSource(IAsyncEnumerator<TJob> items) : ISource
    {
        public async ValueTask<(bool Read, TJob Job)> ReadAsync(CancellationToken cancellationToken) =>
            await items.MoveNextAsync().ConfigureAwait(false) ? (true, items.Current) : (false, default!);

        public ValueTask DisposeAsync() => items.DisposeAsync();
    }

    private sealed class ChannelSource(ChannelReader<TJob> reader) : ISource
    {
        public async ValueTask<(bool Read, TJob Job)> ReadAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                if (reader.TryRead(out TJob? job))
                {
                    return (true, job);
                }

                if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return (false, default!);
                }
            }
        }

        public ValueTask DisposeAsync() => default;
    }
}
