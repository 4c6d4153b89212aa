using DuckDB.NET.Data;
using PagesAnalytics.Query;

namespace PagesAnalytics.Tests.Query;

/// <summary>One row of the test table; the id is stored as row_ordinal.</summary>
internal sealed record TestPage(
    int Id, string Url, string Host, string? Title, int? HttpCode, long? Size = null,
    string? FirstSeen = null, string? LastVisited = null, string? RedirectUrl = null,
    long? Backlinks = null, long? Refdomains = null, double? RefdomainRatio = null);

/// <summary>
/// An in-memory DuckDB with a table <c>pages</c> that has the columns and types of the store's <c>pages</c> view,
/// filled with rows chosen for the filter semantics tests. Built here on purpose, without the store code.
/// </summary>
public sealed class PagesTestTable : IDisposable
{
    internal static readonly IReadOnlyList<TestPage> Rows =
    [
        new(1, "https://ahrefs.com/", "ahrefs.com", "Ahrefs – SEO Tools & Resources", 200, 1000, "2013-11-20T09:46:29Z", "2020-01-01T00:00:00Z", "", 100, 10, 0.1),
        new(2, "http://www.ahrefs.com/blog/", "www.ahrefs.com", "The Ahrefs Blog", 301, 2000, "2014-01-01T00:00:00Z", "2013-11-20T23:59:59.999999Z", "https://ahrefs.com/blog/", 50, 5, 0.1),
        new(3, "https://notahrefs.com/page", "notahrefs.com", "Not Ahrefs", 404, null, "2015-06-15T12:00:00Z", "2013-11-21T00:00:00Z", null, 0, 0, null),
        new(4, "https://ahrefs.com/blog/seo-basics", "ahrefs.com", "SEO basics: a café guide", 200, 3_000_000_000, "2013-11-19T23:59:59Z", "2013-11-20T00:00:00Z", "", 7, 3, 3.0 / 7),
        new(5, "https://sub.deep.ahrefs.com/x?y=1", "sub.deep.ahrefs.com", "Über Straße ÜBER", 200, 10, "2016-01-01T00:00:00Z", "2016-01-02T00:00:00Z", "http://www.ahrefs.com/", 2, 2, 1.0),
        new(6, "https://example.org/日本語", "example.org", "日本語 テキスト", 200, RedirectUrl: "", Backlinks: 1, Refdomains: 1, RefdomainRatio: 1.0),
        new(7, "https://example.org/emoji", "example.org", "I ❤ emoji😀fun", 500),
        new(8, "https://example.org/quote", "example.org", "He said \"hi\" – it's O'Reilly \\ back", 200),
        new(9, "https://example.org/null", "example.org", null, null),
        new(10, "https://example.org/empty", "example.org", "", 0),
        new(11, "http://user:pw@AHREFS.com:8080/login", "ahrefs.com", "login", 403),
        new(12, "https://ahrefs.com.evil.net/", "ahrefs.com.evil.net", "evil", 200),
        new(13, "https://example.org/tools", "example.org", "seo_tools-pro seotools", 200),
        new(14, "https://example.org/nul", "example.org", "a\0b", 200),
        new(15, "http://ahrefs.com", "ahrefs.com", "no slash", 200),
        new(16, "https://ahrefs.com/blog", "ahrefs.com", "Blog no slash", 200),
        new(17, "https://Ahrefs.com/Case", "ahrefs.com", "CASE test", 200),
        new(18, "https://example.org/hostile", "example.org", "x'); DROP TABLE pages; --", 200),
    ];

    public PagesTestTable()
    {
        Connection = new DuckDBConnection("DataSource=:memory:");
        Connection.Open();
        Execute("""
            CREATE TABLE pages (
                url VARCHAR NOT NULL, ahrefs_rank INTEGER, first_seen TIMESTAMPTZ, last_visited TIMESTAMPTZ,
                http_code INTEGER, size BIGINT, links_internal INTEGER, links_external INTEGER, encoding VARCHAR,
                title VARCHAR, redirect_url VARCHAR, content_encoding VARCHAR, backlinks BIGINT, dofollow BIGINT,
                nofollow BIGINT, redirects BIGINT, refdomains BIGINT, refclass_c BIGINT, refips BIGINT,
                source_id INTEGER NOT NULL, row_ordinal BIGINT NOT NULL,
                host VARCHAR, refdomain_ratio DOUBLE, dofollow_ratio DOUBLE, class_c_per_refdomain DOUBLE, ips_per_refdomain DOUBLE)
            """);
        foreach (var row in Rows)
        {
            using var insert = Connection.CreateCommand();
            // The driver cuts strings at NUL, so that one title is spliced in SQL below.
            insert.CommandText = """
                INSERT INTO pages (row_ordinal, source_id, url, host, title, http_code, size, first_seen, last_visited,
                                   redirect_url, backlinks, refdomains, refdomain_ratio)
                VALUES ($1, 0, $2, $3, $4, $5, $6, $7::TIMESTAMPTZ, $8::TIMESTAMPTZ, $9, $10, $11, $12)
                """;
            object?[] values =
            [
                (long)row.Id, row.Url, row.Host, row.Title?.Replace("\0", "", StringComparison.Ordinal), row.HttpCode, row.Size,
                row.FirstSeen is null ? null : DateTimeOffset.Parse(row.FirstSeen, System.Globalization.CultureInfo.InvariantCulture),
                row.LastVisited is null ? null : DateTimeOffset.Parse(row.LastVisited, System.Globalization.CultureInfo.InvariantCulture),
                row.RedirectUrl, row.Backlinks, row.Refdomains, row.RefdomainRatio,
            ];
            foreach (var value in values)
            {
                insert.Parameters.Add(value is null ? new DuckDBParameter { Value = DBNull.Value } : new DuckDBParameter(value));
            }
            insert.ExecuteNonQuery();
        }
        Execute("UPDATE pages SET title = 'a' || chr(0) || 'b' WHERE row_ordinal = 14");
    }

    public DuckDBConnection Connection { get; }

    /// <summary>Ids (row_ordinal) of the rows where <paramref name="fragment"/> holds, ascending.</summary>
    public int[] Match(SqlFragment fragment)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = "SELECT row_ordinal FROM pages WHERE " + fragment.Sql + " ORDER BY row_ordinal";
        fragment.BindTo(command);
        return ReadIds(command);
    }

    /// <summary>Ids of the rows where the inline SQL condition holds.</summary>
    public int[] MatchInline(string condition)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = "SELECT row_ordinal FROM pages WHERE " + condition + " ORDER BY row_ordinal";
        return ReadIds(command);
    }

    /// <summary>Row count plus an order-independent digest of every value, and the attached databases and tables.</summary>
    public string Fingerprint()
    {
        using var command = Connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT count(*) FROM pages)::VARCHAR || '|' ||
                   (SELECT md5(string_agg(CAST(p AS VARCHAR), '#' ORDER BY row_ordinal)) FROM pages p) || '|' ||
                   (SELECT string_agg(database_name, ',' ORDER BY database_name) FROM duckdb_databases()) || '|' ||
                   (SELECT string_agg(table_name, ',' ORDER BY table_name) FROM duckdb_tables())
            """;
        return (string)command.ExecuteScalar()!;
    }

    public void Execute(string sql)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose() => Connection.Dispose();

    private static int[] ReadIds(DuckDBCommand command)
    {
        var ids = new List<int>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ids.Add((int)reader.GetInt64(0));
        }
        return [.. ids];
    }
}
