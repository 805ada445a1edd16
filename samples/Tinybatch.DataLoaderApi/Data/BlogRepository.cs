using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Tinybatch.DataLoaderApi.Data;

/// <summary>
/// The sample's queries: pages of posts and authors, one author or one author's posts (the naive way), and many
/// authors or many authors' posts in one statement (the loaders' fetches). Every query is bounded.
/// </summary>
public sealed class BlogRepository(BlogDatabase database)
{
    /// <summary>Lists the first posts, by id.</summary>
    public Task<List<Post>> GetPostsAsync(int take, CancellationToken cancellationToken) =>
        database.ExecuteReaderAsync(
            "SELECT id, title, author_id FROM posts ORDER BY id LIMIT $take",
            p => p.AddWithValue("$take", take),
            ReadPost,
            cancellationToken);

    /// <summary>Lists the first authors, by id.</summary>
    public Task<List<Author>> GetAuthorsPageAsync(int take, CancellationToken cancellationToken) =>
        database.ExecuteReaderAsync(
            "SELECT id, name, email FROM authors ORDER BY id LIMIT $take",
            p => p.AddWithValue("$take", take),
            ReadAuthor,
            cancellationToken);

    /// <summary>Reads one author's posts, by id: the naive way, one statement per author.</summary>
    public Task<List<Post>> GetPostsByAuthorAsync(int authorId, CancellationToken cancellationToken) =>
        database.ExecuteReaderAsync(
            "SELECT id, title, author_id FROM posts WHERE author_id = $id ORDER BY id",
            p => p.AddWithValue("$id", authorId),
            ReadPost,
            cancellationToken);

    /// <summary>Reads the posts of many authors in one statement, <c>WHERE author_id IN (...)</c>: the grouped loader's fetch.</summary>
    public async ValueTask<ILookup<int, Post>> GetPostsByAuthorsAsync(IReadOnlyList<int> authorIds, CancellationToken cancellationToken)
    {
        List<Post> rows = await database.ExecuteReaderAsync(
            $"SELECT id, title, author_id FROM posts WHERE author_id IN ({Placeholders(authorIds.Count)}) ORDER BY id",
            p => Bind(p, authorIds),
            ReadPost,
            cancellationToken);
        return rows.ToLookup(p => p.AuthorId);
    }

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
        List<Author> rows = await database.ExecuteReaderAsync(
            $"SELECT id, name, email FROM authors WHERE id IN ({Placeholders(ids.Count)})",
            p => Bind(p, ids),
            ReadAuthor,
            cancellationToken);
        return rows.ToDictionary(a => a.Id);
    }

    private static string Placeholders(int count)
    {
        var sql = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            sql.Append(i == 0 ? "$p" : ", $p").Append(i.ToString(CultureInfo.InvariantCulture));
        }

        return sql.ToString();
    }

    private static void Bind(SqliteParameterCollection parameters, IReadOnlyList<int> ids)
    {
        for (int i = 0; i < ids.Count; i++)
        {
            parameters.AddWithValue("$p" + i.ToString(CultureInfo.InvariantCulture), ids[i]);
        }
    }

    private static Author ReadAuthor(SqliteDataReader r) => new(r.GetInt32(0), r.GetString(1), r.GetString(2));

    private static Post ReadPost(SqliteDataReader r) => new(r.GetInt32(0), r.GetString(1), r.GetInt32(2));
}
