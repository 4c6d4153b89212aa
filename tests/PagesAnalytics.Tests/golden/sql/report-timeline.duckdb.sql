-- pages report timeline in DuckDB SQL over the Parquet files of `pages export`
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
) AS report
ORDER BY section, period
