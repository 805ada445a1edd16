using System.Globalization;
using System.Text.RegularExpressions;

namespace Tinybatch.Benchmarks.Profile;

/// <summary>
/// <c>phases --samples FILE --runs FILE [--rules FILE]</c>: turns a <c>perf script</c> dump of a <c>profile</c> run into
/// Tinybatch's CPU per job, phase by phase. Only samples inside the measured windows count. Each sample goes to the
/// phase of its deepest stack frame that a rule names: a runtime helper, a lock or a kernel wake-up is charged to the
/// Tinybatch or harness code that called it. A sample with no named frame at all (an idle thread-pool worker, the GC,
/// the JIT) is charged to "runtime". With <c>--jobs N</c> instead of <c>--runs</c>, every sample counts (a whole
/// process, such as the event-stream demo). A rules file whose first rule is <c>mode&lt;TAB&gt;priority</c> charges a
/// sample instead to the first rule, in file order, that matches any of its frames. Rules match
/// <c>symbol (library)</c>, and a last pseudo-frame <c>[thread] NAME</c>.
/// </summary>
/// <remarks>
/// The JIT inlines small methods into their callers, so a phase is what runs under its non-inlined entry points; the
/// harness keeps its calls into the implementation out of line so that the producer's loop never absorbs the add.
/// The rules name methods of the engine, so a rewrite needs new rules: the top "core, no rule" symbols say which.
/// </remarks>
internal static partial class PhaseBreakdown
{
    public const string Usage = "phases --samples PERF_SCRIPT_TXT (--runs PROFILE_LOG | --jobs N) [--rules FILE] [--top N]";

    private const string Unnamed = "runtime (GC, JIT, kernel)";

    public static int Run(IReadOnlyList<string> args)
    {
        string? samples = null;
        string? runs = null;
        long? jobCount = null;
        string rules = Path.Combine(AppContext.BaseDirectory, "Profile", "phases.txt");
        int top = 4;
        for (int i = 0; i + 1 < args.Count; i += 2)
        {
            switch (args[i])
            {
                case "--samples": samples = args[i + 1]; break;
                case "--runs": runs = args[i + 1]; break;
                case "--jobs": jobCount = long.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--rules": rules = args[i + 1]; break;
                case "--top": top = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: samples = null; i = args.Count; break;
            }
        }

        if (samples is null || (runs is null) == (jobCount is null) || args.Count % 2 != 0)
        {
            Console.Error.WriteLine($"usage: {Usage}");
            return 2;
        }

        List<(string Phase, Regex Pattern)> phaseRules = ReadRules(rules);
        bool priority = phaseRules.Count > 0 && phaseRules[0].Phase == "mode" && phaseRules[0].Pattern.ToString() == "priority";
        if (priority)
        {
            phaseRules.RemoveAt(0);
        }

        // A whole process: one window over all time, its job count given.
        List<ProfiledRun> profiled = runs is null
            ? [new ProfiledRun("-", "-", jobCount!.Value, double.NaN, double.MinValue, double.MaxValue)]
            : ReadRuns(runs);
        if (profiled.Count == 0)
        {
            Console.Error.WriteLine($"No '{ProfileRunner.RunLinePrefix}' line in {runs}.");
            return 1;
        }

        var byPhase = new Dictionary<string, PhaseTally>();
        long sampled = 0;
        long sampledNs = 0;
        foreach (Sample sample in ReadSamples(samples))
        {
            if (!profiled.Exists(r => sample.Time >= r.From && sample.Time <= r.To))
            {
                continue;
            }

            (string phase, Frame? charged) = priority ? ClassifyByPriority(sample.Frames, phaseRules) : Classify(sample.Frames, phaseRules);
            if (!byPhase.TryGetValue(phase, out PhaseTally? tally))
            {
                byPhase[phase] = tally = new PhaseTally();
            }

            Frame? shown = charged ?? (sample.Frames.Count > 0 ? sample.Frames[0] : null);
            tally.Add(shown is null ? "?" : Short(shown.Symbol, shown.Dso), sample.PeriodNs);
            sampled++;
            sampledNs += sample.PeriodNs;
        }

        long jobs = profiled.Sum(r => r.Jobs);
        double measured = runs is null ? double.NaN : profiled.Sum(r => r.CpuNsPerJob * r.Jobs) / jobs;
        Print(profiled, byPhase, phaseRules, sampled, sampledNs, jobs, measured, top);
        return 0;
    }

    private static void Print(
        List<ProfiledRun> profiled,
        Dictionary<string, PhaseTally> byPhase,
        List<(string Phase, Regex Pattern)> rules,
        long sampled,
        long sampledNs,
        long jobs,
        double measured,
        int top)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv,
            $"phases: scenario={profiled[0].Scenario} implementation={profiled[0].Implementation} runs={profiled.Count} jobs={jobs} " +
            $"samples={sampled} sampled_cpu_ns_per_job={(double)sampledNs / jobs:F1} measured_cpu_ns_per_job={measured:F1}"));
        Console.WriteLine();
        Console.WriteLine("| phase | share of samples | CPU ns/job | charged to (share of the phase) |");
        Console.WriteLine("|---|---:|---:|---|");
        IEnumerable<string> order = rules.Select(r => r.Phase).Distinct().Append(Unnamed);
        foreach (string phase in order)
        {
            if (!byPhase.TryGetValue(phase, out PhaseTally? tally))
            {
                continue;
            }

            string where = string.Join("; ", tally.BySymbol.OrderByDescending(p => p.Value).Take(top)
                .Select(p => string.Create(inv, $"{p.Key} {100.0 * p.Value / tally.Ns:F0} %")));
            Console.WriteLine(string.Create(inv,
                $"| {phase} | {100.0 * tally.Ns / sampledNs:F1} % | {(double)tally.Ns / jobs:F1} | {where.Replace("|", "/", StringComparison.Ordinal)} |"));
        }
    }

    /// <summary>Gets the phase of a sample and the frame it is charged to: the deepest frame a rule names.</summary>
    private static (string Phase, Frame? Charged) Classify(List<Frame> frames, List<(string Phase, Regex Pattern)> rules)
    {
        foreach (Frame frame in frames)
        {
            foreach ((string phase, Regex pattern) in rules)
            {
                if (pattern.IsMatch(frame.Text))
                {
                    return (phase, frame);
                }
            }
        }

        return (Unnamed, null);
    }

    /// <summary>Gets the phase of the first rule, in file order, that matches any frame, and that frame.</summary>
    private static (string Phase, Frame? Charged) ClassifyByPriority(List<Frame> frames, List<(string Phase, Regex Pattern)> rules)
    {
        foreach ((string phase, Regex pattern) in rules)
        {
            foreach (Frame frame in frames)
            {
                if (pattern.IsMatch(frame.Text))
                {
                    return (phase, frame);
                }
            }
        }

        return (Unnamed, null);
    }

    private static List<(string Phase, Regex Pattern)> ReadRules(string path) =>
        File.ReadAllLines(path)
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('\t', 2, StringSplitOptions.TrimEntries))
            .Select(parts => (parts[0], new Regex(parts[1], RegexOptions.CultureInvariant)))
            .ToList();

    private static List<ProfiledRun> ReadRuns(string path)
    {
        var runs = new List<ProfiledRun>();
        foreach (string line in File.ReadLines(path).Where(l => l.StartsWith(ProfileRunner.RunLinePrefix, StringComparison.Ordinal)))
        {
            Dictionary<string, string> fields = line[ProfileRunner.RunLinePrefix.Length..]
                .Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(f => f.Split('=', 2))
                .ToDictionary(f => f[0], f => f[1]);
            string[] window = fields["window"].Split(',');
            runs.Add(new ProfiledRun(
                fields["scenario"],
                fields["implementation"],
                long.Parse(fields["jobs"], CultureInfo.InvariantCulture),
                double.Parse(fields["cpu_ns_per_job"], CultureInfo.InvariantCulture),
                double.Parse(window[0], CultureInfo.InvariantCulture),
                double.Parse(window[1], CultureInfo.InvariantCulture)));
        }

        return runs;
    }

    /// <summary>Reads <c>perf script -F comm,tid,time,period,ip,sym,dso</c> output: a header line, then one frame per line.</summary>
    private static IEnumerable<Sample> ReadSamples(string path)
    {
        Sample? current = null;
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (!char.IsWhiteSpace(line[0]))
            {
                if (current is not null)
                {
                    current.Frames.Add(current.Thread);
                    yield return current;
                }

                Match header = HeaderPattern().Match(line);
                current = header.Success
                    ? new Sample(double.Parse(header.Groups["time"].Value, CultureInfo.InvariantCulture), long.Parse(header.Groups["period"].Value, CultureInfo.InvariantCulture), header.Groups["comm"].Value)
                    : null;
                continue;
            }

            Match frame = FramePattern().Match(line);
            if (current is not null && frame.Success)
            {
                current.Frames.Add(new Frame(frame.Groups["sym"].Value, frame.Groups["dso"].Value));
            }
        }

        if (current is not null)
        {
            current.Frames.Add(current.Thread);
            yield return current;
        }
    }

    /// <summary>Shortens a perf-map symbol to <c>Type::Method</c>; names the library of an unnamed native frame.</summary>
    private static string Short(string symbol, string dso)
    {
        if (symbol.StartsWith("[thread] ", StringComparison.Ordinal))
        {
            return symbol;
        }

        if (symbol == "[unknown]")
        {
            return "[" + Path.GetFileName(dso) + "]";
        }

        string s = TierPattern().Replace(symbol, "");
        int paren = s.IndexOf('(', StringComparison.Ordinal);
        if (paren > 0)
        {
            s = s[..paren];
        }

        int space = s.LastIndexOf(' ');
        s = space >= 0 ? s[(space + 1)..] : s;
        return s.Replace("System.Int64", "long", StringComparison.Ordinal).Replace("Tinybatch.Benchmarks.", "", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^(?<comm>.+?)\s+(?<tid>\d+)\s+(?<time>\d+\.\d+):\s+(?<period>\d+)")]
    private static partial Regex HeaderPattern();

    [GeneratedRegex(@"^\s+(?<ip>[0-9a-f]+)\s+(?<sym>.*?)\s+\((?<dso>[^()]*)\)$")]
    private static partial Regex FramePattern();

    [GeneratedRegex(@"\[(QuickJitted|OptimizedTier1|OptimizedTier1OSR|Optimized|InstrumentedTier|InstrumentedTier1|PreJIT)\]")]
    private static partial Regex TierPattern();

    private sealed record ProfiledRun(string Scenario, string Implementation, long Jobs, double CpuNsPerJob, double From, double To);

    private sealed record Frame(string Symbol, string Dso)
    {
        /// <summary>Gets what rules match: the symbol and, in parentheses, the library's file name.</summary>
        public string Text { get; } = $"{Symbol} ({Path.GetFileName(Dso)})";
    }

    private sealed class Sample(double time, long periodNs, string thread)
    {
        public double Time { get; } = time;

        public long PeriodNs { get; } = periodNs;

        /// <summary>Gets the stack, deepest frame first, ending with a pseudo-frame that names the thread.</summary>
        public List<Frame> Frames { get; } = [];

        public Frame Thread { get; } = new("[thread] " + thread, "");
    }

    private sealed class PhaseTally
    {
        public long Ns { get; private set; }

        public Dictionary<string, long> BySymbol { get; } = [];

        public void Add(string leaf, long ns)
        {
            Ns += ns;
            BySymbol[leaf] = BySymbol.GetValueOrDefault(leaf) + ns;
        }
    }
}
