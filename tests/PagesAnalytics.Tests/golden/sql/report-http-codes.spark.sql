-- pages report http-codes in Spark SQL over the Parquet files of `pages export`
-- replace 'pages-export' with the export's path (or pass --from PATH)
WITH pages AS (
    SELECT `url`, `ahrefs_rank`, `first_seen`, `last_visited`, `http_code`, `size`, `links_internal`, `links_external`,
        `encoding`, `title`, `redirect_url`, `content_encoding`, `backlinks`, `dofollow`, `nofollow`, `redirects`,
        `refdomains`, `refclass_c`, `refips`, `source_id`, `row_ordinal`, `host`, `snapshot`,
        CASE WHEN `backlinks` = 0 THEN NULL ELSE CAST(`refdomains` AS DOUBLE) / `backlinks` END AS `refdomain_ratio`,
        CASE WHEN `backlinks` = 0 THEN NULL ELSE CAST(`dofollow` AS DOUBLE) / `backlinks` END AS `dofollow_ratio`,
        CASE WHEN `refdomains` = 0 THEN NULL ELSE CAST(`refclass_c` AS DOUBLE) / `refdomains` END AS `class_c_per_refdomain`,
        CASE WHEN `refdomains` = 0 THEN NULL ELSE CAST(`refips` AS DOUBLE) / `refdomains` END AS `ips_per_refdomain`
    FROM parquet.`pages-export`
),
matched AS (
    SELECT `url`, `ahrefs_rank`, `first_seen`, `last_visited`, `http_code`, `size`, `links_internal`, `links_external`,
        `encoding`, `title`, `redirect_url`, `content_encoding`, `backlinks`, `dofollow`, `nofollow`, `redirects`,
        `refdomains`, `refclass_c`, `refips`, `source_id`, `row_ordinal`, `host`, `refdomain_ratio`, `dofollow_ratio`,
        `class_c_per_refdomain`, `ips_per_refdomain`
    FROM (
        SELECT f.*, row_number() OVER (PARTITION BY f.`url`
            ORDER BY f.`snapshot` DESC NULLS LAST, f.`source_id` DESC, f.`row_ordinal`) AS latest_rank
        FROM pages AS f
    ) AS ranked
    WHERE latest_rank = 1
)
SELECT * FROM (
    WITH codes AS (
        SELECT http_code, CASE WHEN http_code IS NULL THEN 'NULL' WHEN http_code = 0 THEN '0' WHEN http_code BETWEEN 100 AND 599
         THEN CAST(http_code DIV 100 AS STRING) || 'xx' ELSE 'other' END AS http_class, count(*) AS pages,
               CAST(coalesce(sum(backlinks), 0) AS BIGINT) AS backlinks, CAST(coalesce(sum(refdomains), 0) AS BIGINT) AS refdomains
        FROM matched GROUP BY http_code)
    SELECT 'class' AS level, http_class, CAST(NULL AS INTEGER) AS http_code, CAST(sum(pages) AS BIGINT) AS pages,
           round(CAST(100 AS DOUBLE) * sum(pages) / sum(sum(pages)) OVER (), 2) AS share_pct,
           CAST(sum(backlinks) AS BIGINT) AS backlinks, CAST(sum(refdomains) AS BIGINT) AS refdomains
    FROM codes GROUP BY http_class
    UNION ALL
    SELECT 'code', http_class, http_code, pages, round(CAST(100 AS DOUBLE) * pages / sum(pages) OVER (), 2), backlinks, refdomains
    FROM codes
) AS report
ORDER BY level, http_class, http_code NULLS FIRST
