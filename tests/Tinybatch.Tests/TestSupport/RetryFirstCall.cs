namespace Tinybatch.Tests.TestSupport;

/// <summary>
/// A per-job handler for one-job batches: its first call marks job 0 for retry, every later call gives it
/// <paramref name="result"/>. It counts its calls.
/// </summary>
internal sealed class RetryFirstCall(int result)
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public ValueTask Handle(Batch<int, int> batch, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _calls) == 1)
        {
            batch.Retry(0);
        }
        else
        {
            batch.SetResult(0, result);
        }

        return default;
    }
}
