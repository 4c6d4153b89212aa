-- pages report refdomain-ratios in DuckDB SQL over the Parquet files of `pages export`
-- replace 'pages-export' with the export's path (or pass --from PATH)
WITH pages AS (
    SELECT "url", "ahrefs_rank", "first_seen", "last_visited", "http_code", "size", "links_internal", "links_external",
        "encoding", "title", "redirect_url", "content_encoding", "backlinks", "dofollow", "nofollow", "redirects",
        "refdomains", "refclass_c", "refips", "source_id", "row_ordinal", "host", "snapshot",
        CASE WHEN "backlinks" = 0 THEN NULL ELSE CAST("refdomains" AS DOUBLE) / "backlinks" END AS "refdomain_ratio",
        CASE WHEN "backlinks" = 0 THEN NULL ELSE CAST("dofollow" AS DOUBLE) / "backlinks" END AS "dofollow_ratio",
        CASE WHEN "refdomains" = 0 THEN NULL ELSE CAST("refclass_c" AS DOUBLE) / "refdomains" END AS "class_c_per_refdomain",
        CASE WHEN "refdomains" = 0 THEN NULL ELSE CAST("refips" AS DOUBLE) / "refdomains" END AS "ips_per_refdomain"
    FROM read_parquet('pages-export/**/*.parquet', hive_partitioning = true)
),
matched AS (
    SELECT "url", "ahrefs_rank", "first_seen", "last_visited", "http_code", "size", "links_internal", "links_external",
        "encoding", "title", "redirect_url", "content_encoding", "backlinks", "dofollow", "nofollow", "redirects",
        "refdomains", "refclass_c", "refips", "source_id", "row_ordinal", "host", "refdomain_ratio", "dofollow_ratio",
        "class_c_per_refdomain", "ips_per_refdomain"
    FROM (
        SELECT f.*, row_number() OVER (PARTITION BY f."url"
            ORDER BY f."snapshot" DESC NULLS LAST, f."source_id" DESC, f."row_ordinal") AS latest_rank
        FROM pages AS f
    ) AS ranked
    WHERE latest_rank = 1
)
SELECT * FROM (
    SELECT coalesce(http_class, 'all') AS http_class, metric, count(value) AS pages,
           -- rounded: parallel float sums differ in the last bits from run to run
           round(quantile_cont(value, 0.1), 6) AS p10, round(quantile_cont(value, 0.5), 6) AS p50,
           round(quantile_cont(value, 0.9), 6) AS p90, round(avg(value), 6) AS mean
    FROM (
        SELECT CASE WHEN http_code IS NULL THEN 'NULL' WHEN http_code = 0 THEN '0' WHEN http_code BETWEEN 100 AND 599
         THEN CAST(http_code // 100 AS VARCHAR) || 'xx' ELSE 'other' END AS http_class, m.metric, m.value
        FROM matched,
             LATERAL (VALUES ('refdomain_ratio', refdomain_ratio), ('dofollow_ratio', dofollow_ratio),
                             ('class_c_per_refdomain', class_c_per_refdomain), ('ips_per_refdomain', ips_per_refdomain)) AS m(metric, value))
    GROUP BY GROUPING SETS ((http_class, metric), (metric))
) AS report
ORDER BY http_class = 'all' DESC, http_class, metric
