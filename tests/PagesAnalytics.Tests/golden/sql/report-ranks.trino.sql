-- pages report ranks in Trino SQL over the Parquet files of `pages export`
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
    FROM pages
)
SELECT * FROM (
    SELECT CASE WHEN ahrefs_rank IS NULL THEN 'NULL'
                ELSE lpad(CAST(least(ahrefs_rank / 10, 10) * 10 AS VARCHAR), 3, ' ') || '-' ||
                     CAST(least(ahrefs_rank / 10, 10) * 10 + CASE WHEN ahrefs_rank >= 100 THEN 0 ELSE 9 END AS VARCHAR) END AS bucket,
           count(*) AS pages, round(CAST(100 AS DOUBLE) * count(*) / sum(count(*)) OVER (), 2) AS share_pct
    FROM matched GROUP BY 1
) AS report
ORDER BY bucket = 'NULL', bucket
