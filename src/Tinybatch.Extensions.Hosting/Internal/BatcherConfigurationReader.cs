using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Tinybatch.Extensions.Hosting.Internal;

/// <summary>
/// Binds the scalar settings of <see cref="BatcherOptions{TJob, TResult}"/> and <see cref="BatcherOptions{TJob}"/> from a
/// configuration section. Written by hand rather than with the reflection binder: it is trimming- and AOT-safe, needs
/// only the configuration abstractions, rejects unknown keys (a typo must not be ignored silently), and names every
/// value that does not parse.
/// </summary>
internal static class BatcherConfigurationReader
{
    private const string Infinite = "Infinite";

    /// <summary>Applies every valid value of <paramref name="section"/>; invalid ones are left unchanged and added to <paramref name="errors"/>.</summary>
    public static void Bind<TJob, TResult>(IConfigurationSection section, BatcherOptions<TJob, TResult> target, List<string>? errors) =>
        Bind(section, target, () => target.Retry ??= new RetryPolicy(), errors);

    /// <inheritdoc cref="Bind{TJob, TResult}(IConfigurationSection, BatcherOptions{TJob, TResult}, List{string}?)"/>
    public static void Bind<TJob>(IConfigurationSection section, BatcherOptions<TJob> target, List<string>? errors) =>
        Bind(section, target, () => target.Retry ??= new RetryPolicy(), errors);

    /// <param name="section">The section.</param>
    /// <param name="target">The options the values go to.</param>
    /// <param name="retry">Returns the options' retry policy, creating it the first time a retry setting is read.</param>
    /// <param name="errors">Where values that do not parse and unknown keys are reported; null ignores them.</param>
    private static void Bind(IConfigurationSection section, BatcherOptions target, Func<RetryPolicy> retry, List<string>? errors)
    {
        foreach (IConfigurationSection child in section.GetChildren())
        {
            string? value = child.Value;
            switch (child.Key.ToUpperInvariant())
            {
                case "MAXBATCHSIZE": ReadInt(child, errors, v => target.MaxBatchSize = v); break;
                case "MAXBATCHDELAY": ReadTimeSpan(child, errors, v => target.MaxBatchDelay = v); break;
                case "MODE": ReadEnum<BatchingMode>(child, errors, v => target.Mode = v); break;
                case "CAPACITY": ReadInt(child, errors, v => target.Capacity = v); break;
                case "OVERFLOWPOLICY": ReadEnum<OverflowPolicy>(child, errors, v => target.OverflowPolicy = v); break;
                case "MAXCONCURRENTBATCHES": ReadInt(child, errors, v => target.MaxConcurrentBatches = v); break;
                case "MAXBATCHWEIGHT": ReadLong(child, errors, v => target.MaxBatchWeight = v); break;
                case "MAXBUFFEREDWEIGHT": ReadLong(child, errors, v => target.MaxBufferedWeight = v); break;
                case "MAXJOBWEIGHT": ReadLong(child, errors, v => target.MaxJobWeight = v); break;
                case "HANDLERTIMEOUT": ReadTimeSpan(child, errors, v => target.HandlerTimeout = v); break;
                case "NAME":
                    if (value is not null)
                    {
                        target.Name = value;
                    }

                    break;
                case "RETRY": BindRetry(child, retry, errors); break;
                default: errors?.Add($"Unknown setting '{child.Path}'."); break;
            }
        }
    }

    private static void BindRetry(IConfigurationSection section, Func<RetryPolicy> retry, List<string>? errors)
    {
        foreach (IConfigurationSection child in section.GetChildren())
        {
            switch (child.Key.ToUpperInvariant())
            {
                case "MAXATTEMPTS": ReadInt(child, errors, v => retry().MaxAttempts = v); break;
                case "DELAY": ReadTimeSpan(child, errors, v => retry().Delay = v); break;
                case "RETRYFAILEDBATCHES":
                    if (bool.TryParse(child.Value, out bool retryFailed))
                    {
                        retry().RetryFailedBatches = retryFailed;
                    }
                    else
                    {
                        Invalid(child, "true or false", errors);
                    }

                    break;
                default: errors?.Add($"Unknown setting '{child.Path}'."); break;
            }
        }
    }

    private static void ReadInt(IConfigurationSection child, List<string>? errors, Action<int> set)
    {
        if (int.TryParse(child.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
        {
            set(value);
        }
        else
        {
            Invalid(child, "an integer", errors);
        }
    }

    private static void ReadLong(IConfigurationSection child, List<string>? errors, Action<long> set)
    {
        if (long.TryParse(child.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
        {
            set(value);
        }
        else
        {
            Invalid(child, "an integer", errors);
        }
    }

    private static void ReadTimeSpan(IConfigurationSection child, List<string>? errors, Action<TimeSpan> set)
    {
        if (string.Equals(child.Value, Infinite, StringComparison.OrdinalIgnoreCase))
        {
            set(Timeout.InfiniteTimeSpan);
        }
        else if (TimeSpan.TryParse(child.Value, CultureInfo.InvariantCulture, out TimeSpan value))
        {
            set(value);
        }
        else
        {
            Invalid(child, "a duration such as 00:00:00.050, or Infinite", errors);
        }
    }

    private static void ReadEnum<TEnum>(IConfigurationSection child, List<string>? errors, Action<TEnum> set)
        where TEnum : struct, Enum
    {
        // Names only: a number would bypass the check that the value is defined.
        if (child.Value is { } text && !int.TryParse(text, out _) && Enum.TryParse(text, ignoreCase: true, out TEnum value))
        {
            set(value);
        }
        else
        {
            Invalid(child, "one of " + string.Join(", ", Enum.GetNames<TEnum>()), errors);
        }
    }

    private static void Invalid(IConfigurationSection child, string expected, List<string>? errors) =>
        errors?.Add($"'{child.Path}' must be {expected}, but was '{child.Value}'.");
}
