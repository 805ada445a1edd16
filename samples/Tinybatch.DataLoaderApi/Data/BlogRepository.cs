using System.Globalization;
using System.Text;

namespace Tinybatch.DataLoaderApi.Data;

/// <summary>The sample's queries: one to list posts, one to read one author, one to read many authors at once.</summary>
public sealed class BlogRepository(BlogDatabase database)
{
    /// <summary>Lists the first posts, by id.</summary>
    public Task<List<Post>> GetPostsAsync(int take, CancellationToken cancellationToken) =>
        database.ExecuteReaderAsync(
            "SELECT id, title, author_id FROM posts ORDER BY id LIMIT $take",
            p => p.AddWithValue("$take", take),
            r => new Post(r.GetInt32(0), r.GetString(1), r.GetInt32(2)),
            cancellationToken);

    /// <summary>Reads one author: the naive way, one statement per call.</summary>
    public async Task<Author?> GetAuthorAsync(int id, CancellationToken cancellationToken)
    {
        List<Author> rows = await database.ExecuteReaderAsync(
            "SELECT id, name, email FROM authors WHERE id = $id",
            p => p.AddWithValue("$id", id),
            ReadAuthor,
            cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>Reads many authors in one statement, <c>WHERE id IN (...)</c>: the data loader's fetch.</summary>
    public async ValueTask<IReadOnlyDictionary<int, Author>> GetAuthorsAsync(IReadOnlyList<int> ids, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder("SELECT id, name, email FROM authors WHERE id IN (");
        for (int i = 0; i < ids.Count; i++)
        {
            sql.Append(i == 0 ? "$p" : ", $p").Append(i.ToString(CultureInfo.InvariantCulture));
        }

        sql.Append(')');
        List<Author> rows = await database.ExecuteReaderAsync(
            sql.ToString(),
            p =>
            {
                for (int i = 0; i < ids.Count; i++)
                {
                    p.AddWithValue("$p" + i.ToString(CultureInfo.InvariantCulture), ids[i]);
                }
            },
            ReadAuthor,
            cancellationToken);
        return rows.ToDictionary(a => a.Id);
    }

    private static Author ReadAuthor(Microsoft.Data.Sqlite.SqliteDataReader r) => new(r.GetInt32(0), r.GetString(1), r.GetString(2));
}
