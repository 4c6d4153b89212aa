namespace PagesAnalytics.Query;

/// <summary>
/// The named reports of <see cref="Reports"/> written for Spark SQL and Trino, over the same <c>matched</c> relation
/// and with the same output columns and order, for <c>pages report --emit-sql</c>. What differs from DuckDB's SQL:
/// integer division (<c>DIV</c> in Spark, <c>/</c> on integers in Trino), <c>GROUP BY ALL</c> spelled out, lateral
/// <c>VALUES</c> as <c>LATERAL VIEW stack</c> (Spark) or <c>UNNEST</c> of two arrays (Trino), explicit
/// <c>NULLS LAST</c> (Spark sorts NULLs first by default), shares in DOUBLE as DuckDB computes them. Percentiles are
/// exact as DuckDB's <c>quantile_cont</c>: Spark's <c>percentile</c>; in Trino, which only has an approximate one, the
/// same linear interpolation between the two nearest ranks, written out. Months and recency are computed in UTC.
/// </summary>
internal static class DialectReports
{
    /// <summary>The report's SQL over <c>matched</c> and its ORDER BY list, for Spark or Trino.</summary>
    public static (string Sql, string OrderBy) Get(string report, SqlDialect dialect)
    {
        bool spark = dialect switch
        {
            SqlDialect.Spark => true,
            SqlDialect.Trino => false,
            _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "DuckDB reports are Reports.All"),
        };
        return report switch
        {
            "http-codes" => (HttpCodes(spark), "level, http_class, http_code NULLS FIRST"),
            "refdomain-ratios" => (spark ? SparkRatios : TrinoRatios, "http_class = 'all' DESC, http_class, metric"),
            "hosts" => (HostsSql, "pages DESC, host ASC NULLS LAST"),
            "ranks" => (Ranks(spark), "bucket = 'NULL', bucket"),
            "timeline" => (spark ? SparkTimeline : TrinoTimeline, "section, period"),
            "redirects" => (Redirects(spark), "section = 'missing_redirect_url', pages DESC, redirect_url ASC NULLS LAST"),
            _ => throw new ArgumentException($"no {dialect} SQL for report '{report}'", nameof(report)),
        };
    }

    private static string HttpClass(bool spark) => spark
        ? """
          CASE WHEN http_code IS NULL THEN 'NULL' WHEN http_code = 0 THEN '0' WHEN http_code BETWEEN 100 AND 599
               THEN CAST(http_code DIV 100 AS STRING) || 'xx' ELSE 'other' END
          """
        : """
          CASE WHEN http_code IS NULL THEN 'NULL' WHEN http_code = 0 THEN '0' WHEN http_code BETWEEN 100 AND 599
               THEN CAST(http_code / 100 AS VARCHAR) || 'xx' ELSE 'other' END
          """;

    private static string HttpCodes(bool spark) => $"""
        WITH codes AS (
            SELECT http_code, {HttpClass(spark)} AS http_class, count(*) AS pages,
                   CAST(coalesce(sum(backlinks), 0) AS BIGINT) AS backlinks, CAST(coalesce(sum(refdomains), 0) AS BIGINT) AS refdomains
            FROM matched GROUP BY http_code)
        SELECT 'class' AS level, http_class, CAST(NULL AS INTEGER) AS http_code, CAST(sum(pages) AS BIGINT) AS pages,
               round(CAST(100 AS DOUBLE) * sum(pages) / sum(sum(pages)) OVER (), 2) AS share_pct,
               CAST(sum(backlinks) AS BIGINT) AS backlinks, CAST(sum(refdomains) AS BIGINT) AS refdomains
        FROM codes GROUP BY http_class
        UNION ALL
        SELECT 'code', http_class, http_code, pages, round(CAST(100 AS DOUBLE) * pages / sum(pages) OVER (), 2), backlinks, refdomains
        FROM codes
        """;

    private static readonly string SparkRatios = $"""
        SELECT coalesce(http_class, 'all') AS http_class, metric, count(value) AS pages,
               round(percentile(value, 0.1), 6) AS p10, round(percentile(value, 0.5), 6) AS p50,
               round(percentile(value, 0.9), 6) AS p90, round(avg(value), 6) AS mean
        FROM (
            SELECT {HttpClass(true)} AS http_class, metric, value
            FROM matched
            LATERAL VIEW stack(4, 'refdomain_ratio', refdomain_ratio, 'dofollow_ratio', dofollow_ratio,
                'class_c_per_refdomain', class_c_per_refdomain, 'ips_per_refdomain', ips_per_refdomain) m AS metric, value
        ) AS v
        GROUP BY GROUPING SETS ((http_class, metric), (metric))
        """;

    // quantile_cont(value, p): with the n non-NULL values ranked 0..n-1, interpolate between ranks floor and ceiling of p*(n-1).
    private static string TrinoQuantile(string p) =>
        $"max(CASE WHEN rn = floor({p} * (n - 1)) THEN value END) + ({p} * (max(n) - 1) - floor({p} * (max(n) - 1))) * "
        + $"(max(CASE WHEN rn = ceiling({p} * (n - 1)) THEN value END) - max(CASE WHEN rn = floor({p} * (n - 1)) THEN value END))";

    private static readonly string TrinoRatios = $"""
        WITH vals AS (
            SELECT {HttpClass(false)} AS http_class, m.metric, m.value
            FROM matched
            CROSS JOIN UNNEST(ARRAY['refdomain_ratio', 'dofollow_ratio', 'class_c_per_refdomain', 'ips_per_refdomain'],
                              ARRAY[refdomain_ratio, dofollow_ratio, class_c_per_refdomain, ips_per_refdomain]) AS m (metric, value)),
        grouped AS (
            SELECT http_class, metric, value FROM vals
            UNION ALL
            SELECT 'all', metric, value FROM vals),
        ranked AS (
            SELECT http_class, metric, value,
                   row_number() OVER (PARTITION BY http_class, metric ORDER BY value ASC NULLS LAST) - 1 AS rn,
                   count(value) OVER (PARTITION BY http_class, metric) AS n
            FROM grouped)
        SELECT http_class, metric, max(n) AS pages,
               round({TrinoQuantile("0.1E0")}, 6) AS p10,
               round({TrinoQuantile("0.5E0")}, 6) AS p50,
               round({TrinoQuantile("0.9E0")}, 6) AS p90,
               round(avg(value), 6) AS mean
        FROM ranked
        GROUP BY http_class, metric
        """;

    private const string HostsSql = """
        SELECT host, count(*) AS pages, CAST(coalesce(sum(backlinks), 0) AS BIGINT) AS backlinks,
               CAST(coalesce(sum(refdomains), 0) AS BIGINT) AS refdomains,
               round(CAST(100 AS DOUBLE) * sum(CASE WHEN http_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END) / count(*), 2) AS share_2xx_pct
        FROM matched GROUP BY host
        """;

    private static string Ranks(bool spark)
    {
        string div = spark ? "ahrefs_rank DIV 10" : "ahrefs_rank / 10";
        string text = spark ? "STRING" : "VARCHAR";
        return $"""
            SELECT CASE WHEN ahrefs_rank IS NULL THEN 'NULL'
                        ELSE lpad(CAST(least({div}, 10) * 10 AS {text}), 3, ' ') || '-' ||
                             CAST(least({div}, 10) * 10 + CASE WHEN ahrefs_rank >= 100 THEN 0 ELSE 9 END AS {text}) END AS bucket,
                   count(*) AS pages, round(CAST(100 AS DOUBLE) * count(*) / sum(count(*)) OVER (), 2) AS share_pct
            FROM matched GROUP BY 1
            """;
    }

    private const string SparkTimeline = """
        SELECT section, period, count(*) AS pages
        FROM (SELECT first_seen, last_visited, max(last_visited) OVER () AS newest FROM matched) AS m
        LATERAL VIEW stack(2,
            'first_seen', coalesce(substr(CAST(date_from_unix_date(CAST(floor(unix_micros(m.first_seen) / 86400000000) AS INT)) AS STRING), 1, 7), 'never'),
            'last_visited', CASE
                WHEN m.last_visited IS NULL THEN 'never'
                WHEN unix_micros(m.newest) - unix_micros(m.last_visited) < 30 * 86400000000 THEN '0-29 days'
                WHEN unix_micros(m.newest) - unix_micros(m.last_visited) < 90 * 86400000000 THEN '30-89 days'
                WHEN unix_micros(m.newest) - unix_micros(m.last_visited) < 365 * 86400000000 THEN '90-364 days'
                ELSE '365+ days' END) u AS section, period
        GROUP BY section, period
        """;

    private const string TrinoTimeline = """
        SELECT u.section, u.period, count(*) AS pages
        FROM (SELECT first_seen, last_visited, max(last_visited) OVER () AS newest FROM matched) AS m
        CROSS JOIN UNNEST(
            ARRAY['first_seen', 'last_visited'],
            ARRAY[coalesce(date_format(m.first_seen AT TIME ZONE 'UTC', '%Y-%m'), 'never'),
                  CASE
                      WHEN m.last_visited IS NULL THEN 'never'
                      WHEN m.newest - m.last_visited < INTERVAL '30' DAY THEN '0-29 days'
                      WHEN m.newest - m.last_visited < INTERVAL '90' DAY THEN '30-89 days'
                      WHEN m.newest - m.last_visited < INTERVAL '365' DAY THEN '90-364 days'
                      ELSE '365+ days' END]) AS u (section, period)
        GROUP BY u.section, u.period
        """;

    private static string Redirects(bool spark) => $"""
        SELECT * FROM (
            SELECT 'top_target' AS section, redirect_url, count(*) AS pages, CAST(coalesce(sum(backlinks), 0) AS BIGINT) AS backlinks
            FROM matched WHERE redirect_url IS NOT NULL AND redirect_url <> '' GROUP BY redirect_url
            ORDER BY pages DESC, redirect_url LIMIT 50) AS top_targets
        UNION ALL
        SELECT 'missing_redirect_url', CAST(NULL AS {(spark ? "STRING" : "VARCHAR")}), count(*), CAST(coalesce(sum(backlinks), 0) AS BIGINT)
        FROM matched WHERE http_code BETWEEN 300 AND 399 AND (redirect_url IS NULL OR redirect_url = '')
        """;
}
