using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Store;

/// <summary>A SQL statement that <c>pages sql</c> refuses to run.</summary>
public sealed class ReadOnlyViolationException : PagesException
{
    /// <summary>Creates the exception with the reason.</summary>
    public ReadOnlyViolationException(string message) : base(message)
    {
    }
}

/// <summary>
/// An in-memory DuckDB whose views show the store's committed state: <c>sources</c> (one row per record) and
/// <c>pages</c> (all rows of visible parts, plus <c>host</c> and the ratio columns). No database file is opened, so
/// any number of sessions run while a writer ingests; each sees the records that existed when it opened.
/// </summary>
public sealed class QuerySession : IDisposable
{
    /// <summary>Derived columns of the <c>pages</c> view, in order, with their SQL.</summary>
    public static readonly IReadOnlyList<(string Name, string Sql)> DerivedColumns =
    [
        ("host", "NULLIF(lower(regexp_extract(url, '^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^@/?#]*@)?([^:/?#]+)', 1)), '')"),
        ("refdomain_ratio", "CASE WHEN backlinks = 0 THEN NULL ELSE refdomains::DOUBLE / backlinks END"),
        ("dofollow_ratio", "CASE WHEN backlinks = 0 THEN NULL ELSE dofollow::DOUBLE / backlinks END"),
        ("class_c_per_refdomain", "CASE WHEN refdomains = 0 THEN NULL ELSE refclass_c::DOUBLE / refdomains END"),
        ("ips_per_refdomain", "CASE WHEN refdomains = 0 THEN NULL ELSE refips::DOUBLE / refdomains END"),
    ];

    private QuerySession(DuckDBConnection connection, IReadOnlyList<SourceRecord> records)
    {
        Connection = connection;
        Records = records;
    }

    /// <summary>The open in-memory connection.</summary>
    public DuckDBConnection Connection { get; }

    /// <summary>The records the views were built from.</summary>
    public IReadOnlyList<SourceRecord> Records { get; }

    internal static QuerySession Create(PagesStore store, IReadOnlyList<SourceRecord> records)
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        try
        {
            connection.Open();
            CreateSources(connection, records);
            CreatePages(connection, store, records);
            return new QuerySession(connection, records);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs one read-only statement (a query: SELECT, FROM, WITH, DESCRIBE, SUMMARIZE, SHOW) and returns its reader.
    /// Anything that could modify or attach anything is refused with <see cref="ReadOnlyViolationException"/>.
    /// </summary>
    public DbDataReader ExecuteReadOnly(string sql)
    {
        EnsureReadOnly(sql);
        var command = Connection.CreateCommand();
        command.CommandText = sql;
        command.UseStreamingMode = true;
        return command.ExecuteReader();
    }

    /// <summary>Throws unless <paramref name="sql"/> is exactly one query statement.</summary>
    public void EnsureReadOnly(string sql)
    {
        using var command = Connection.CreateCommand();
        // DuckDB's own parser decides: json_serialize_sql serialises query statements only.
        command.CommandText = "SELECT json_serialize_sql($1::VARCHAR)";
        command.Parameters.Add(new DuckDBParameter(sql));
        var json = (string?)command.ExecuteScalar() ?? "";
        using var parsed = JsonDocument.Parse(json);
        var root = parsed.RootElement;
        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.True)
        {
            string kind = root.TryGetProperty("error_type", out var type) ? type.GetString() ?? "" : "";
            string message = root.TryGetProperty("error_message", out var text) ? text.GetString() ?? "" : "";
            if (kind == "not implemented")
            {
                throw new ReadOnlyViolationException("pages sql is read-only: only one query (SELECT, WITH, FROM, DESCRIBE, SUMMARIZE, SHOW) may run; use 'pages ingest' to change the store");
            }
            throw new ReadOnlyViolationException("SQL " + kind + ": " + message);
        }
        if (root.TryGetProperty("statements", out var statements) && statements.GetArrayLength() != 1)
        {
            throw new ReadOnlyViolationException($"pages sql runs exactly one statement, got {statements.GetArrayLength()}");
        }
    }

    /// <summary>Closes the connection.</summary>
    public void Dispose() => Connection.Dispose();

    private static void CreateSources(DuckDBConnection connection, IReadOnlyList<SourceRecord> records)
    {
        Execute(connection, """
            CREATE TABLE source_records (
                source_id INTEGER, path VARCHAR, sha256 VARCHAR, bytes BIGINT, compression VARCHAR, responses INTEGER,
                rows BIGINT, stats_pages BIGINT, unknown_keys BIGINT, target VARCHAR, mode VARCHAR, snapshot DATE,
                snapshot_from VARCHAR, status VARCHAR, error VARCHAR, salvaged_to_byte BIGINT, parts INTEGER,
                ingested_at TIMESTAMPTZ);
            CREATE VIEW sources AS SELECT *,
                CASE WHEN stats_pages IS NULL OR stats_pages = 0 THEN NULL ELSE rows::DOUBLE / stats_pages END AS coverage
            FROM source_records;
            """);
        if (records.Count == 0)
        {
            return;
        }
        using var appender = connection.CreateAppender("source_records");
        foreach (var r in records)
        {
            var row = appender.CreateRow();
            row.AppendValue(r.SourceId).AppendValue(r.Path).AppendValue(r.Sha256).AppendValue(r.Bytes).AppendValue(r.Compression)
                .AppendValue(r.Responses).AppendValue(r.Rows).AppendValue(r.StatsPages).AppendValue(r.UnknownKeys)
                .AppendValue(r.Target).AppendValue(r.Mode);
            if (r.Snapshot is { } snapshot && DateOnly.TryParseExact(snapshot, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                row.AppendValue(date);
            }
            else
            {
                row.AppendNullValue();
            }
            row.AppendValue(r.SnapshotFrom).AppendValue(r.Status).AppendValue(r.Error).AppendValue(r.SalvagedToByte)
                .AppendValue(r.Parts.Count)
                .AppendValue(r.IngestedAt.UtcDateTime).EndRow();
        }
    }

    private static void CreatePages(DuckDBConnection connection, PagesStore store, IReadOnlyList<SourceRecord> records)
    {
        var parts = new List<string>();
        foreach (var record in records)
        {
            if (record.IsVisible)
            {
                foreach (var part in record.Parts)
                {
                    parts.Add(Path.Combine(store.Directory, part));
                }
            }
        }

        var columns = new StringBuilder();
        foreach (var column in PagesSchema.Columns)
        {
            columns.Append(columns.Length == 0 ? "" : ", ").Append(column.Name);
        }
        string from;
        if (parts.Count == 0)
        {
            // A typed, empty relation so that queries over an empty store bind and return no rows.
            var empty = new StringBuilder("SELECT ");
            foreach (var column in PagesSchema.Columns)
            {
                empty.Append(column.Index == 0 ? "" : ", ").Append("CAST(NULL AS ").Append(column.DuckDbType).Append(") AS ").Append(column.Name);
            }
            from = "(" + empty.Append(" WHERE false") + ")";
        }
        else
        {
            var list = new StringBuilder("read_parquet([");
            for (int i = 0; i < parts.Count; i++)
            {
                list.Append(i == 0 ? "" : ", ").Append(SqlLiteral(parts[i]));
            }
            from = list.Append("])").ToString();
        }

        var view = new StringBuilder("CREATE VIEW pages AS SELECT ").Append(columns);
        foreach (var (name, sql) in DerivedColumns)
        {
            view.Append(", ").Append(sql).Append(" AS ").Append(name);
        }
        view.Append(" FROM ").Append(from);
        Execute(connection, view.ToString());

        // One row per url from its newest snapshot; ties go to the later ingested source, then the API's order.
        Execute(connection, """
            CREATE VIEW pages_latest AS
            SELECT * EXCLUDE (snapshot_rank) FROM (
                SELECT p.*, row_number() OVER (
                    PARTITION BY p.url
                    ORDER BY s.snapshot DESC NULLS LAST, p.source_id DESC, p.row_ordinal) AS snapshot_rank
                FROM pages p JOIN sources s USING (source_id))
            WHERE snapshot_rank = 1
            """);
    }

    /// <summary>A single-quoted SQL string literal; only for paths the store itself produced.</summary>
    internal static string SqlLiteral(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
