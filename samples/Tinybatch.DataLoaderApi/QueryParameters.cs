using System.Globalization;

namespace Tinybatch.DataLoaderApi;

/// <summary>
/// Parses and bounds the query parameters. Every failure is a 400 ValidationProblem whose <c>errors</c> name the
/// parameter, and every query the endpoints run is bounded by these limits.
/// </summary>
public static class QueryParameters
{
    /// <summary>The rows returned when the request gives no <c>take</c>.</summary>
    public const int DefaultTake = 100;

    /// <summary>The most rows one request may ask for with <c>take</c>.</summary>
    public const int MaxTake = 500;

    /// <summary>The most ids one request may list in <c>ids</c>.</summary>
    public const int MaxIds = 100;

    /// <summary>Reads <c>take</c>: absent means <see cref="DefaultTake"/>; otherwise an integer from 1 to <see cref="MaxTake"/>.</summary>
    /// <param name="raw">The raw query value.</param>
    /// <param name="take">The number of rows to return.</param>
    /// <param name="problem">The 400 answer when the value is invalid.</param>
    /// <returns><see langword="true"/> if <paramref name="take"/> is valid.</returns>
    public static bool TryParseTake(string? raw, out int take, out IResult? problem)
    {
        problem = null;
        if (raw is null)
        {
            take = DefaultTake;
            return true;
        }

        if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out take) || take < 1 || take > MaxTake)
        {
            problem = Invalid("take", $"take must be an integer from 1 to {MaxTake}, but was '{raw}'.");
            return false;
        }

        return true;
    }

    /// <summary>Reads <c>ids</c>: a comma-separated list of 1 to <see cref="MaxIds"/> positive integers.</summary>
    /// <param name="raw">The raw query value.</param>
    /// <param name="ids">The ids, in the request's order, duplicates kept.</param>
    /// <param name="problem">The 400 answer when the value is invalid.</param>
    /// <returns><see langword="true"/> if <paramref name="ids"/> is valid.</returns>
    public static bool TryParseIds(string? raw, out int[] ids, out IResult? problem)
    {
        ids = [];
        problem = null;
        string[] parts = string.IsNullOrEmpty(raw) ? [] : raw.Split(',');
        if (parts.Length is 0 or > MaxIds)
        {
            problem = Invalid("ids", $"ids must list 1 to {MaxIds} author ids separated by commas, but listed {parts.Length}.");
            return false;
        }

        var parsed = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out parsed[i]) || parsed[i] < 1)
            {
                problem = Invalid("ids", $"ids must be positive integers, but item {i + 1} was '{parts[i]}'.");
                return false;
            }
        }

        ids = parsed;
        return true;
    }

    private static IResult Invalid(string parameter, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [parameter] = [message] }, title: $"Invalid query parameter '{parameter}'.");
}
