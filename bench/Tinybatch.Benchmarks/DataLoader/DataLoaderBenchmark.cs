using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tinybatch.DataLoaderApi.Data;

namespace Tinybatch.Benchmarks.DataLoader;

/// <summary>
/// Requests per second and SQL statements per request of the DataLoader sample API (samples/Tinybatch.DataLoaderApi),
/// loader versus naive, over its seeded SQLite data. The app runs in memory (TestServer): every request goes through
/// the real ASP.NET Core pipeline, dependency injection (one loader per request) and SQLite, with no network.
/// </summary>
/// <remarks>
/// Usage: <c>dataloader [--seconds S] [--rounds R] [--concurrency C] [--take N]</c>. Each round measures both endpoints
/// for S seconds each, in alternating order; the report gives the median over rounds.
/// </remarks>
public static class DataLoaderBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        double seconds = Option(args, "--seconds", 3);
        int rounds = (int)Option(args, "--rounds", 3);
        int concurrency = (int)Option(args, "--concurrency", 8);
        int take = (int)Option(args, "--take", 100);
        if (seconds <= 0 || rounds < 1 || concurrency < 1 || take < 1)
        {
            Console.Error.WriteLine("dataloader: --seconds, --rounds, --concurrency and --take must be positive.");
            return 2;
        }

        // Outside a test project, WebApplicationFactory finds the app's content root only through this setting.
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_TINYBATCH_DATALOADERAPI", AppContext.BaseDirectory);
        await using WebApplicationFactory<BlogDatabase> factory = new WebApplicationFactory<BlogDatabase>()
            .WithWebHostBuilder(b => b.ConfigureLogging(logging => logging.ClearProviders()));
        SqlStatementCounter counter = factory.Services.GetRequiredService<SqlStatementCounter>();
        using HttpClient client = factory.CreateClient();
        string[] modes = ["loader", "naive"];

        Console.WriteLine($"dataloader: {Environment.ProcessorCount} cores, {concurrency} concurrent clients, {take} posts per request "
            + $"({BlogDatabase.AuthorCount} authors, {BlogDatabase.PostCount} posts seeded), {rounds} rounds of {seconds:0.#} s per endpoint");

        // Warm-up: JIT, connection pool, SQLite page cache.
        foreach (string mode in modes)
        {
            await MeasureAsync(client, counter, Url(mode, take), concurrency, TimeSpan.FromSeconds(Math.Min(1, seconds)));
        }

        var results = modes.ToDictionary(m => m, _ => new List<Measurement>());
        for (int round = 0; round < rounds; round++)
        {
            foreach (string mode in round % 2 == 0 ? modes : modes.Reverse())
            {
                Measurement m = await MeasureAsync(client, counter, Url(mode, take), concurrency, TimeSpan.FromSeconds(seconds));
                results[mode].Add(m);
                Console.WriteLine($"  round {round + 1} {mode,-6}: {m.RequestsPerSecond,10:N0} req/s  {m.StatementsPerRequest,7:0.00} SQL/request  mean {m.MeanLatencyMs,7:0.00} ms");
            }
        }

        Console.WriteLine();
        Console.WriteLine("| endpoint | requests/s (median) | SQL statements per request | mean latency (ms) |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (string mode in modes)
        {
            Measurement median = results[mode].OrderBy(m => m.RequestsPerSecond).ElementAt(results[mode].Count / 2);
            Console.WriteLine($"| /posts-with-authors/{mode}?take={take} | {median.RequestsPerSecond:N0} | {median.StatementsPerRequest:0.00} | {median.MeanLatencyMs:0.00} |");
        }

        return 0;
    }

    private static string Url(string mode, int take) => $"/posts-with-authors/{mode}?take={take.ToString(CultureInfo.InvariantCulture)}";

    private static async Task<Measurement> MeasureAsync(HttpClient client, SqlStatementCounter counter, string url, int concurrency, TimeSpan duration)
    {
        long statementsBefore = counter.Count;
        long requests = 0;
        long latencyTicks = 0;
        var clock = Stopwatch.StartNew();
        var uri = new Uri(url, UriKind.Relative);

        async Task ClientAsync()
        {
            while (clock.Elapsed < duration)
            {
                long start = Stopwatch.GetTimestamp();
                using HttpResponseMessage response = await client.GetAsync(uri);
                response.EnsureSuccessStatusCode();
                await response.Content.ReadAsByteArrayAsync();
                Interlocked.Add(ref latencyTicks, Stopwatch.GetElapsedTime(start).Ticks);
                Interlocked.Increment(ref requests);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(ClientAsync)));
        double elapsed = clock.Elapsed.TotalSeconds;
        long statements = counter.Count - statementsBefore;
        return new Measurement(
            requests / elapsed,
            requests == 0 ? 0 : (double)statements / requests,
            requests == 0 ? 0 : TimeSpan.FromTicks(latencyTicks / requests).TotalMilliseconds);
    }

    private static double Option(string[] args, string name, double fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private readonly record struct Measurement(double RequestsPerSecond, double StatementsPerRequest, double MeanLatencyMs);
}
