namespace Tinybatch;

/// <summary>
/// A fact that needs PostgreSQL: it runs when TINYBATCH_PG holds a connection string and is reported as skipped,
/// with the reason, when it does not. <c>eval "$(scripts/postgres.sh start)"</c> sets it; .ci/run does so.
/// </summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    /// <summary>The environment variable that holds the connection string.</summary>
    public const string Variable = "TINYBATCH_PG";

    public PostgresFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            Skip = $"PostgreSQL test: set {Variable} to a connection string to run it (eval \"$(scripts/postgres.sh start)\" starts a throwaway server and sets it).";
        }
    }

    /// <summary>Gets the connection string, or null when the variable is empty.</summary>
    public static string? ConnectionString => Environment.GetEnvironmentVariable(Variable);
}
