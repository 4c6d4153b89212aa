using System.Data.Common;

namespace PagesAnalytics.Query;

/// <summary>A named report: its SQL over the matched rows, and the columns its output (and <c>having</c>) has.</summary>
/// <param name="Name">The name given to <c>pages report</c>.</param>
/// <param name="Description">One line for help texts.</param>
/// <param name="Sql">A SELECT over the relation <c>matched</c> (one row per url, filtered by target and where).</param>
/// <param name="Columns">The output columns, which <c>having</c> may name.</param>
/// <param name="OrderBy">The output order.</param>
/// <param name="ChartLabel">Column labelling the bars of the terminal chart.</param>
/// <param name="ChartValue">Column giving the bars' lengths.</param>
/// <param name="ChartSection">When set, only rows whose <c>section</c> equals it are charted.</param>
public sealed record ReportDefinition(string Name, string Description, string Sql, FilterColumns Columns, string OrderBy,
    string ChartLabel, string ChartValue, string? ChartSection = null);

/// <summary>A compiled report request.</summary>
public sealed class CompiledReport
{
    internal CompiledReport(ReportDefinition definition, string sql, IReadOnlyList<object?> parameters)
    {
        Definition = definition;
        Sql = sql;
        Parameters = parameters;
    }

    /// <summary>The report.</summary>
    public ReportDefinition Definition { get; }

    /// <summary>The statement, with <c>$n</c> placeholders.</summary>
    public string Sql { get; }

    /// <summary>Values of <c>$1</c>...</summary>
    public IReadOnlyList<object?> Parameters { get; }

    /// <summary>Creates a command with every parameter bound.</summary>
    public DbCommand CreateCommand(DbConnection connection) => DuckDbCommands.Create(connection, Sql, Parameters);
}

/// <summary>
/// The named reports. Each groups the matched rows (one per url from its newest snapshot, after target and
/// <c>where</c>); <c>having</c> then filters the report's own rows, on its output columns.
/// </summary>
public static class Reports
{
    private const string HttpClass = """
        CASE WHEN http_code IS NULL THEN 'NULL' WHEN http_code = 0 THEN '0' WHEN http_code BETWEEN 100 AND 599
             THEN CAST(http_code // 100 AS VARCHAR) || 'xx' ELSE 'other' END
        """;

    /// <summary>All reports, by name.</summary>
    public static readonly IReadOnlyList<ReportDefinition> All =
    [
        new("http-codes", "Pages, share, backlinks and refdomains per http_code and per class (0, 2xx, 3xx, 4xx, 5xx)",
            // Grouped once by code; the classes roll up from those few rows, so the matched rows are read once.
            $"""
            WITH codes AS (
                SELECT http_code, {HttpClass} AS http_class, count(*) AS pages,
                       coalesce(sum(backlinks), 0)::BIGINT AS backlinks, coalesce(sum(refdomains), 0)::BIGINT AS refdomains
                FROM matched GROUP BY ALL)
            SELECT 'class' AS level, http_class, NULL::INTEGER AS http_code, sum(pages)::BIGINT AS pages,
                   round(100.0 * sum(pages) / sum(sum(pages)) OVER (), 2) AS share_pct,
                   sum(backlinks)::BIGINT AS backlinks, sum(refdomains)::BIGINT AS refdomains
            FROM codes GROUP BY http_class
            UNION ALL
            SELECT 'code', http_class, http_code, pages, round(100.0 * pages / sum(pages) OVER (), 2), backlinks, refdomains
            FROM codes
            """,
            Columns(("level", FilterType.Text), ("http_class", FilterType.Text), ("http_code", FilterType.Integer), ("pages", FilterType.Integer),
                ("share_pct", FilterType.Decimal), ("backlinks", FilterType.Integer), ("refdomains", FilterType.Integer)),
            "level, http_class, http_code NULLS FIRST", "http_class", "pages", ChartSection: "class"),

        new("refdomain-ratios", "p10/p50/p90 and mean of the four ratios, overall and per http class",
            $"""
            SELECT coalesce(http_class, 'all') AS http_class, metric, count(value) AS pages,
                   -- rounded: parallel float sums differ in the last bits from run to run
                   round(quantile_cont(value, 0.1), 6) AS p10, round(quantile_cont(value, 0.5), 6) AS p50,
                   round(quantile_cont(value, 0.9), 6) AS p90, round(avg(value), 6) AS mean
            FROM (
                SELECT {HttpClass} AS http_class, m.metric, m.value
                FROM matched,
                     LATERAL (VALUES ('refdomain_ratio', refdomain_ratio), ('dofollow_ratio', dofollow_ratio),
                                     ('class_c_per_refdomain', class_c_per_refdomain), ('ips_per_refdomain', ips_per_refdomain)) AS m(metric, value))
            GROUP BY GROUPING SETS ((http_class, metric), (metric))
            """,
            Columns(("http_class", FilterType.Text), ("metric", FilterType.Text), ("pages", FilterType.Integer), ("p10", FilterType.Decimal),
                ("p50", FilterType.Decimal), ("p90", FilterType.Decimal), ("mean", FilterType.Decimal)),
            "http_class = 'all' DESC, http_class, metric", "metric", "p50", ChartSection: null),

        new("hosts", "Per host: pages, backlinks, refdomains, share of 2xx pages",
            """
            SELECT host, count(*) AS pages, coalesce(sum(backlinks), 0)::BIGINT AS backlinks,
                   coalesce(sum(refdomains), 0)::BIGINT AS refdomains,
                   round(100.0 * count(*) FILTER (WHERE http_code BETWEEN 200 AND 299) / count(*), 2) AS share_2xx_pct
            FROM matched GROUP BY host
            """,
            Columns(("host", FilterType.Text), ("pages", FilterType.Integer), ("backlinks", FilterType.Integer),
                ("refdomains", FilterType.Integer), ("share_2xx_pct", FilterType.Decimal)),
            "pages DESC, host", "host", "pages"),

        new("ranks", "Histogram of ahrefs_rank in buckets of 10",
            """
            SELECT CASE WHEN ahrefs_rank IS NULL THEN 'NULL'
                        ELSE lpad(CAST(least(ahrefs_rank // 10, 10) * 10 AS VARCHAR), 3, ' ') || '-' ||
                             CAST(least(ahrefs_rank // 10, 10) * 10 + CASE WHEN ahrefs_rank >= 100 THEN 0 ELSE 9 END AS VARCHAR) END AS bucket,
                   count(*) AS pages, round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS share_pct
            FROM matched GROUP BY ALL
            """,
            Columns(("bucket", FilterType.Text), ("pages", FilterType.Integer), ("share_pct", FilterType.Decimal)),
            "bucket = 'NULL', bucket", "bucket", "pages"),

        new("timeline", "Pages by first_seen month, and by last_visited recency (relative to the newest last_visited)",
            """
            SELECT u.section, u.period, count(*) AS pages
            FROM (SELECT first_seen, last_visited, max(last_visited) OVER () AS newest FROM matched) AS m,
                 LATERAL (VALUES
                     ('first_seen', coalesce(strftime(m.first_seen AT TIME ZONE 'UTC', '%Y-%m'), 'never')),
                     ('last_visited', CASE
                         WHEN m.last_visited IS NULL THEN 'never'
                         WHEN m.newest - m.last_visited < INTERVAL 30 DAY THEN '0-29 days'
                         WHEN m.newest - m.last_visited < INTERVAL 90 DAY THEN '30-89 days'
                         WHEN m.newest - m.last_visited < INTERVAL 365 DAY THEN '90-364 days'
                         ELSE '365+ days' END)) AS u(section, period)
            GROUP BY ALL
            """,
            Columns(("section", FilterType.Text), ("period", FilterType.Text), ("pages", FilterType.Integer)),
            "section, period", "period", "pages", ChartSection: "first_seen"),

        new("redirects", "Top redirect targets, and 3xx pages without a redirect_url",
            """
            SELECT * FROM (
                SELECT 'top_target' AS section, redirect_url, count(*) AS pages, coalesce(sum(backlinks), 0)::BIGINT AS backlinks
                FROM matched WHERE redirect_url IS NOT NULL AND redirect_url <> '' GROUP BY redirect_url
                ORDER BY pages DESC, redirect_url LIMIT 50)
            UNION ALL
            SELECT 'missing_redirect_url', NULL, count(*), coalesce(sum(backlinks), 0)::BIGINT
            FROM matched WHERE http_code BETWEEN 300 AND 399 AND (redirect_url IS NULL OR redirect_url = '')
            """,
            Columns(("section", FilterType.Text), ("redirect_url", FilterType.Text), ("pages", FilterType.Integer), ("backlinks", FilterType.Integer)),
            "section = 'missing_redirect_url', pages DESC, redirect_url", "redirect_url", "pages", ChartSection: "top_target"),
    ];

    /// <summary>The report called <paramref name="name"/>, or a usage error listing the names.</summary>
    public static ReportDefinition Find(string name)
    {
        foreach (var report in All)
        {
            if (string.Equals(report.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return report;
            }
        }
        var names = All.Select(r => r.Name).ToList();
        var nearest = Suggestions.Nearest(name, names);
        throw new PagesUsageException($"unknown report '{name}'{(nearest is null ? "" : $" (did you mean '{nearest}'?)")}; reports: {string.Join(", ", names)}");
    }

    /// <summary>Compiles a report over the rows matched by target, mode and where; having filters the report's rows.</summary>
    public static CompiledReport Compile(ReportDefinition report, string? where, string? having, string? target, string? mode, bool allSnapshots = false)
    {
        var matched = PagesQueryCompiler.CompileMatchedRows(where, target, mode, allSnapshots);
        var parameters = new List<object?>(matched.Parameters);
        string filter = "";
        if (!string.IsNullOrWhiteSpace(having))
        {
            var compiled = FilterCompiler.Compile(FilterParser.Parse(having, "having", report.Columns), matched.NextParameterIndex);
            filter = " WHERE " + compiled.Sql;
            parameters.AddRange(compiled.Parameters);
        }
        string sql = $"WITH matched AS ({matched.Sql}) SELECT * FROM ({report.Sql}) AS report{filter} ORDER BY {report.OrderBy}";
        return new CompiledReport(report, sql, parameters);
    }

    private static FilterColumns Columns(params (string Name, FilterType Type)[] columns) => new(columns);
}
