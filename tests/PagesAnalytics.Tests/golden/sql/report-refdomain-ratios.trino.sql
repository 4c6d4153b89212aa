-- pages report refdomain-ratios in Trino SQL over the Parquet files of `pages export`
-- replace "pages_export" with a table over those files (or pass --from TABLE)
WITH pages AS (
    SELECT "url", "ahrefs_rank", "first_seen", "last_visited", "http_code", "size", "links_internal", "links_external",
        "encoding", "title", "redirect_url", "content_encoding", "backlinks", "dofollow", "nofollow", "redirects",
        "refdomains", "refclass_c", "refips", "source_id", "row_ordinal", "host", "snapshot",
        CASE WHEN "backlinks" = 0 THEN NULL ELSE CAST("refdomains" AS DOUBLE) / "backlinks" END AS "refdomain_ratio",
        CASE WHEN "backlinks" = 0 THEN NULL ELSE CAST("dofollow" AS DOUBLE) / "backlinks" END AS "dofollow_ratio",
        CASE WHEN "refdomains" = 0 THEN NULL ELSE CAST("refclass_c" AS DOUBLE) / "refdomains" END AS "class_c_per_refdomain",
        CASE WHEN "refdomains" = 0 THEN NULL ELSE CAST("refips" AS DOUBLE) / "refdomains" END AS "ips_per_refdomain"
    FROM "pages_export"
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
    WITH vals AS (
        SELECT CASE WHEN http_code IS NULL THEN 'NULL' WHEN http_code = 0 THEN '0' WHEN http_code BETWEEN 100 AND 599
         THEN CAST(http_code / 100 AS VARCHAR) || 'xx' ELSE 'other' END AS http_class, m.metric, m.value
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
           round(max(CASE WHEN rn = floor(0.1E0 * (n - 1)) THEN value END) + (0.1E0 * (max(n) - 1) - floor(0.1E0 * (max(n) - 1))) * (max(CASE WHEN rn = ceiling(0.1E0 * (n - 1)) THEN value END) - max(CASE WHEN rn = floor(0.1E0 * (n - 1)) THEN value END)), 6) AS p10,
           round(max(CASE WHEN rn = floor(0.5E0 * (n - 1)) THEN value END) + (0.5E0 * (max(n) - 1) - floor(0.5E0 * (max(n) - 1))) * (max(CASE WHEN rn = ceiling(0.5E0 * (n - 1)) THEN value END) - max(CASE WHEN rn = floor(0.5E0 * (n - 1)) THEN value END)), 6) AS p50,
           round(max(CASE WHEN rn = floor(0.9E0 * (n - 1)) THEN value END) + (0.9E0 * (max(n) - 1) - floor(0.9E0 * (max(n) - 1))) * (max(CASE WHEN rn = ceiling(0.9E0 * (n - 1)) THEN value END) - max(CASE WHEN rn = floor(0.9E0 * (n - 1)) THEN value END)), 6) AS p90,
           round(avg(value), 6) AS mean
    FROM ranked
    GROUP BY http_class, metric
) AS report
ORDER BY http_class = 'all' DESC, http_class, metric
