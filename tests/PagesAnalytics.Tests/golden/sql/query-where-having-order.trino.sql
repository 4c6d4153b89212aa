-- pages query in Trino SQL over the Parquet files of `pages export`
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
        WHERE ("http_code" >= CAST(300 AS BIGINT) AND (strpos("title", 'e') > 0))
    ) AS ranked
    WHERE latest_rank = 1
)
SELECT "url", "ahrefs_rank", "first_seen", "last_visited", "http_code", "size", "links_internal", "links_external",
    "encoding", "title", "redirect_url", "content_encoding", "backlinks", "dofollow", "nofollow", "redirects",
    "refdomains", "refclass_c", "refips"
FROM matched
WHERE "backlinks" >= CAST(1 AS BIGINT)
ORDER BY "backlinks" DESC NULLS LAST, "url" ASC NULLS LAST, "source_id", "row_ordinal"
OFFSET 3
LIMIT 20
