using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Retry;
using Tinybatch.Polly;

namespace Tinybatch.Sink.Tests;

/// <summary>The README's Polly example, verbatim between the region markers (a test in Tinybatch.Tests checks it).</summary>
public sealed class PollyReadmeExampleTests
{
    [Fact]
    public async Task ReadmePollyExample_RetryFromTheRegistryAndACircuitBreakerBackoff_Configured()
    {
        var time = new FakeTimeProvider();

        // <polly-pipeline>
        // A retry pipeline kept in Polly's registry (with Polly.Extensions: services.AddResiliencePipeline("sink", ...)).
        var registry = new ResiliencePipelineRegistry<string>();
        registry.TryAddBuilder("sink", (pipeline, _) => pipeline.AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 3,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
        }));

        var options = new BatcherOptions<string, bool> { TimeProvider = time };
        options.Retry = new PollyRetryPolicy(registry, "sink");          // per-job retry delays, from the pipeline
        options.UsePollyOutageBackoff(new CircuitBreakerStrategyOptions   // one pause for the stream while the sink is down
        {
            FailureRatio = 0.5,
            MinimumThroughput = 10,
            SamplingDuration = TimeSpan.FromSeconds(30),
            BreakDuration = TimeSpan.FromSeconds(5),
            BreakDurationGenerator = args => new ValueTask<TimeSpan>(TimeSpan.FromSeconds(Math.Min(60, 5 << args.HalfOpenAttempts))),
        });
        // </polly-pipeline>

        PollyRetryPolicy retry = Assert.IsType<PollyRetryPolicy>(options.Retry);
        Assert.Equal(4, retry.MaxAttempts);
        TimeSpan delay = await retry.GetDelayAsync(2, new TimeoutException(), default);
        Assert.InRange(delay, TimeSpan.Zero, TimeSpan.FromMilliseconds(400));
        PollyOutageBackoff backoff = Assert.IsType<PollyOutageBackoff>(options.OutageBackoff);
        Assert.Equal(CircuitState.Closed, backoff.State);
    }
}
