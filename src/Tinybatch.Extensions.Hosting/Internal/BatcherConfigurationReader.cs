using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Tinybatch.Extensions.Hosting.Internal;

/// <summary>
/// Binds the scalar settings of <see cref="BatcherOptions{TJob, TResult}"/> from a configuration section. Written by
/// hand rather than with the reflection binder: it is trimming- and AOT-safe, rejects unknown keys (a typo must not be
/// ignored silently), and names every value that does not parse.
/// </summary>
internal static class BatcherConfigurationReader
{
    private const string Infinite = "Infinite";

    /// <summary>Applies every valid value of <paramref name="section"/>; invalid ones are left unchanged and added to <paramref name="errors"/>.</summary>
    public static void Bind<TJob, TResult>(IConfigurationSection section, BatcherOptions<TJob, TResult> target, List<string>? errors)
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
                case "HANDLERTIMEOUT": ReadTimeSpan(child, errors, v => target.HandlerTimeout = v); break;
                case "NAME":
                    if (value is not null)
                    {
                        target.Name = value;
                    }

                    break;
                case "RETRY": BindRetry(child, target, errors); break;
                default: errors?.Add($"Unknown setting '{child.Path}'."); break;
            }
        }
    }

    private static void BindRetry<TJob, TResult>(IConfigurationSection section, BatcherOptions<TJob, TResult> target, List<string>? errors)
    {
        RetryPolicy Retry() => target.Retry ??= new RetryPolicy();
        foreach (IConfigurationSection child in section.GetChildren())
        {
            switch (child.Key.ToUpperInvariant())
            {
                case "MAXATTEMPTS": ReadInt(child, errors, v => Retry().MaxAttempts = v); break;
                case "DELAY": ReadTimeSpan(child, errors, v => Retry().Delay = v); break;
                case "RETRYFAILEDBATCHES":
                    if (bool.TryParse(child.Value, out bool retryFailed))
                    {
                        Retry().RetryFailedBatches = retryFailed;
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
