using System.Text.RegularExpressions;

namespace Tinybatch.EventStream;

/// <summary>Checks table names, which are spliced into SQL and so must be plain identifiers.</summary>
internal static partial class TableName
{
    /// <summary>Returns <paramref name="name"/> if it is a plain identifier.</summary>
    /// <param name="name">The table name.</param>
    /// <returns>The name.</returns>
    /// <exception cref="ArgumentException">It is not a plain identifier.</exception>
    public static string Validate(string name)
    {
        if (!Identifier().IsMatch(name))
        {
            throw new ArgumentException($"Table name '{name}' must be letters, digits and underscores, starting with a letter or underscore (at most 63).", nameof(name));
        }

        return name;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
    private static partial Regex Identifier();
}
