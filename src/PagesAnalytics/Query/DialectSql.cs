using System.Globalization;
using System.Text;

namespace PagesAnalytics.Query;

/// <summary>Where SQL printed by <c>--emit-sql</c> reads the exported rows, and in which dialect it is written.</summary>
public sealed record EmitSqlOptions
{
    /// <summary>Default <see cref="From"/> for DuckDB and Spark: a path to substitute.</summary>
    public const string DefaultPath = "pages-export";

    /// <summary>Default <see cref="From"/> for Trino: a table name to substitute.</summary>
    public const string DefaultTable = "pages_export";

    /// <summary>The dialect of the SQL.</summary>
    public SqlDialect Dialect { get; init; } = SqlDialect.DuckDb;

    /// <summary>
    /// The export: for DuckDB and Spark a path (a directory written by <c>pages export</c>, partitioned or not, or one
    /// <c>.parquet</c> file); for Trino a table name (<c>catalog.schema.table</c>) over those files. Null means the
    /// placeholder <see cref="DefaultPath"/> or <see cref="DefaultTable"/>.
    /// </summary>
    public string? From { get; init; }

    /// <summary>The dialect named <paramref name="name"/>: duckdb, spark or trino (any case).</summary>
    public static SqlDialect ParseDialect(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "duckdb" => SqlDialect.DuckDb,
            "spark" => SqlDialect.Spark,
            "trino" => SqlDialect.Trino,
            _ => throw new PagesUsageException($"unknown SQL dialect '{name}' (duckdb, spark or trino)"),
        };
    }
}

/// <summary>
/// Writes a <c>pages query</c> or <c>pages report</c> request as one SQL statement in DuckDB, Spark SQL or Trino over
/// the Parquet files of <c>pages export</c> (<c>--emit-sql</c>), so the same filter runs on another engine. Values are
/// inlined as escaped literals of the dialect (<see cref="SqlDialect"/>) and identifiers are quoted; nothing the user
/// typed reaches the SQL otherwise.
/// </summary>
/// <remarks>
/// The statement starts with a <c>pages</c> relation over the export: its columns (the 21 stored ones, <c>host</c> and
/// <c>snapshot</c>, as <c>pages export</c> writes them by default; partition directories such as
/// <c>http_class=2xx</c> are read as columns too) plus the four ratio columns computed as the store's view does. Then
/// the request's rows exactly as the store's compiler builds them: target and <c>where</c>, one row per url (newest
/// <c>snapshot</c>, ties to the higher <c>source_id</c>, then the lower <c>row_ordinal</c>) unless all snapshots are
/// asked for, <c>having</c>, order, offset and limit. The order always ends with <c>source_id, row_ordinal</c>, since
/// an export's file order is no API order. Reports are the same report SQL written for each engine.
/// </remarks>
public static class DialectSql
{
    /// <summary>The columns the <c>pages</c> relation reads from the export, in order.</summary>
    internal static readonly IReadOnlyList<string> ExportColumns = BuildExportColumns();

    /// <summary>
    /// The statement for a query request. The request is validated exactly as <c>pages query</c> validates it, with the
    /// same <see cref="FilterException"/>s.
    /// </summary>
    public static string Query(PagesQueryOptions options, EmitSqlOptions emit)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(emit);
        var compiled = PagesQueryCompiler.Compile(options); // the same validation and errors as the store's query
        var dialect = emit.Dialect;
        var columns = FilterColumns.Pages;
        var order = string.IsNullOrWhiteSpace(options.OrderBy) ? [] : OrderByParser.Parse(options.OrderBy, columns);

        var sql = new StringBuilder();
        sql.Append("-- pages query in ").Append(DialectName(dialect)).Append(" over the Parquet files of `pages export`");
        AppendSourceNote(sql, dialect, emit.From);
        AppendPrelude(sql, options.Where, options.Target, options.Mode, options.AllSnapshots, emit);
        sql.Append("SELECT ");
        for (int i = 0; i < compiled.Columns.Count; i++)
        {
            sql.Append(i == 0 ? "" : i % 8 == 0 ? ",\n    " : ", ").Append(Id(compiled.Columns[i].Name, dialect));
        }
        sql.Append("\nFROM matched");
        if (!string.IsNullOrWhiteSpace(options.Having))
        {
            sql.Append("\nWHERE ").Append(FilterCompiler.ToInlineSql(FilterParser.Parse(options.Having, "having", columns), dialect));
        }
        sql.Append("\nORDER BY ");
        foreach (var (column, descending) in order)
        {
            sql.Append(Id(column, dialect)).Append(descending ? " DESC NULLS LAST, " : " ASC NULLS LAST, ");
        }
        sql.Append(Id("source_id", dialect)).Append(", ").Append(Id("row_ordinal", dialect));
        string limit = options.Limit is { } rows ? "LIMIT " + rows.ToString(CultureInfo.InvariantCulture) : "";
        string offset = options.Offset > 0 ? "OFFSET " + options.Offset.ToString(CultureInfo.InvariantCulture) : "";
        // Trino takes OFFSET before LIMIT; DuckDB and Spark take LIMIT first.
        foreach (var clause in dialect == SqlDialect.Trino ? new[] { offset, limit } : [limit, offset])
        {
            if (clause.Length > 0)
            {
                sql.Append('\n').Append(clause);
            }
        }
        return sql.Append('\n').ToString();
    }

    /// <summary>
    /// The statement for a report request: the report over the matched rows, <c>having</c> on its columns, its order.
    /// Validated as <c>pages report</c> validates it.
    /// </summary>
    public static string Report(ReportDefinition report, string? where, string? having, string? target, string? mode,
        bool allSnapshots, EmitSqlOptions emit)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(emit);
        Reports.Compile(report, where, having, target, mode, allSnapshots); // the same validation and errors
        var dialect = emit.Dialect;
        var sql = new StringBuilder();
        sql.Append("-- pages report ").Append(report.Name).Append(" in ").Append(DialectName(dialect))
            .Append(" over the Parquet files of `pages export`");
        AppendSourceNote(sql, dialect, emit.From);
        AppendPrelude(sql, where, target, mode, allSnapshots, emit);
        var (body, orderBy) = dialect == SqlDialect.DuckDb ? (report.Sql, report.OrderBy) : DialectReports.Get(report.Name, dialect);
        sql.Append("SELECT * FROM (\n").Append(Indent(body.Trim())).Append("\n) AS report");
        if (!string.IsNullOrWhiteSpace(having))
        {
            sql.Append("\nWHERE ").Append(FilterCompiler.ToInlineSql(FilterParser.Parse(having, "having", report.Columns), dialect));
        }
        return sql.Append("\nORDER BY ").Append(orderBy).Append('\n').ToString();
    }

    /// <summary>
    /// The relation the statement reads the export from: DuckDB <c>read_parquet('path/**/*.parquet', hive_partitioning =
    /// true)</c> (the path as given when it names a <c>.parquet</c> file or holds a glob), Spark
    /// <c>parquet.`path`</c>, Trino the table name, each part double-quoted.
    /// </summary>
    internal static string Source(SqlDialect dialect, string? from)
    {
        switch (dialect)
        {
            case SqlDialect.DuckDb:
                {
                    string path = string.IsNullOrWhiteSpace(from) ? EmitSqlOptions.DefaultPath : from;
                    bool file = path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) || path.AsSpan().IndexOfAny("*?[") >= 0;
                    string pattern = file ? path : path.TrimEnd('/') + "/**/*.parquet";
                    return "read_parquet(" + Literal(pattern, dialect) + ", hive_partitioning = true)";
                }
            case SqlDialect.Spark:
                {
                    string path = string.IsNullOrWhiteSpace(from) ? EmitSqlOptions.DefaultPath : from;
                    return "parquet." + SqlBuilder.QuoteIdentifier(path, dialect);
                }
            case SqlDialect.Trino:
                {
                    string table = string.IsNullOrWhiteSpace(from) ? EmitSqlOptions.DefaultTable : from.Trim();
                    var parts = table.Split('.');
                    if (parts.Length > 3 || Array.Exists(parts, p => p.Length == 0))
                    {
                        throw new PagesUsageException($"--from '{from}' is not a Trino table name (table, schema.table or catalog.schema.table)");
                    }
                    return string.Join('.', parts.Select(p => SqlBuilder.QuoteIdentifier(p, dialect)));
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "unknown SQL dialect");
        }
    }

    private static void AppendSourceNote(StringBuilder sql, SqlDialect dialect, string? from)
    {
        sql.Append('\n');
        if (string.IsNullOrWhiteSpace(from))
        {
            sql.Append(dialect == SqlDialect.Trino
                ? "-- replace \"" + EmitSqlOptions.DefaultTable + "\" with a table over those files (or pass --from TABLE)\n"
                : "-- replace '" + EmitSqlOptions.DefaultPath + "' with the export's path (or pass --from PATH)\n");
        }
    }

    // WITH pages AS (...), matched AS (...) -- the relation over the export and the request's rows.
    private static void AppendPrelude(StringBuilder sql, string? where, string? target, string? mode, bool allSnapshots, EmitSqlOptions emit)
    {
        var dialect = emit.Dialect;
        string source = Source(dialect, emit.From);
        sql.Append("WITH pages AS (\n    SELECT ");
        for (int i = 0; i < ExportColumns.Count; i++)
        {
            sql.Append(i == 0 ? "" : i % 8 == 0 ? ",\n        " : ", ").Append(Id(ExportColumns[i], dialect));
        }
        foreach (var (name, numerator, denominator) in Ratios)
        {
            sql.Append(",\n        CASE WHEN ").Append(Id(denominator, dialect)).Append(" = 0 THEN NULL ELSE CAST(")
                .Append(Id(numerator, dialect)).Append(" AS DOUBLE) / ").Append(Id(denominator, dialect)).Append(" END AS ")
                .Append(Id(name, dialect));
        }
        sql.Append("\n    FROM ").Append(source).Append("\n),\nmatched AS (\n");

        var conditions = new List<string>();
        if (!string.IsNullOrWhiteSpace(target))
        {
            conditions.Add(TargetMatcher.ToInlineSql(target, TargetMatcher.ParseMode(mode ?? "domain"), dialect));
        }
        if (!string.IsNullOrWhiteSpace(where))
        {
            conditions.Add(FilterCompiler.ToInlineSql(FilterParser.Parse(where, "where", FilterColumns.Pages), dialect));
        }
        string indent = allSnapshots ? "\n    " : "\n        ";
        string filter = conditions.Count == 0 ? "" : indent + "WHERE " + string.Join(indent + "  AND ", conditions);
        var all = new StringBuilder();
        var pagesColumns = FilterColumns.Pages.Columns;
        for (int i = 0; i < pagesColumns.Count; i++)
        {
            all.Append(i == 0 ? "" : i % 8 == 0 ? ",\n        " : ", ").Append(Id(pagesColumns[i].Name, dialect));
        }
        if (allSnapshots)
        {
            sql.Append("    SELECT ").Append(all).Append("\n    FROM pages").Append(filter).Append("\n)\n");
            return;
        }
        // One row per url from its newest snapshot: the same ranking as the store's pages_latest.
        sql.Append("    SELECT ").Append(all).Append("\n    FROM (\n        SELECT f.*, row_number() OVER (PARTITION BY f.").Append(Id("url", dialect))
            .Append("\n            ORDER BY f.").Append(Id("snapshot", dialect)).Append(" DESC NULLS LAST, f.").Append(Id("source_id", dialect))
            .Append(" DESC, f.").Append(Id("row_ordinal", dialect)).Append(") AS latest_rank\n        FROM pages AS f")
            .Append(filter).Append("\n    ) AS ranked\n    WHERE latest_rank = 1\n)\n");
    }

    private static readonly (string Name, string Numerator, string Denominator)[] Ratios =
    [
        ("refdomain_ratio", "refdomains", "backlinks"),
        ("dofollow_ratio", "dofollow", "backlinks"),
        ("class_c_per_refdomain", "refclass_c", "refdomains"),
        ("ips_per_refdomain", "refips", "refdomains"),
    ];

    private static string Id(string name, SqlDialect dialect) => SqlBuilder.QuoteIdentifier(name, dialect);

    private static string Literal(string text, SqlDialect dialect) => SqlBuilder.StringLiteral(text, dialect);

    private static string DialectName(SqlDialect dialect) => dialect switch
    {
        SqlDialect.DuckDb => "DuckDB SQL",
        SqlDialect.Spark => "Spark SQL",
        _ => "Trino SQL",
    };

    private static string Indent(string text) => "    " + text.ReplaceLineEndings("\n").Replace("\n", "\n    ", StringComparison.Ordinal);

    private static List<string> BuildExportColumns()
    {
        var names = new List<string>();
        foreach (var column in Schema.PagesSchema.Columns)
        {
            names.Add(column.Name);
        }
        names.Add("host");
        names.Add("snapshot");
        return names;
    }
}
