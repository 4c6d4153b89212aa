-- pages query in DuckDB SQL over the Parquet files of `pages export`
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
        WHERE ("http_code" >= 300::BIGINT AND contains("title", 'e'::VARCHAR))
    ) AS ranked
    WHERE latest_rank = 1
)
SELECT "url", "ahrefs_rank", "first_seen", "last_visited", "http_code", "size", "links_internal", "links_external",
    "encoding", "title", "redirect_url", "content_encoding", "backlinks", "dofollow", "nofollow", "redirects",
    "refdomains", "refclass_c", "refips"
FROM matched
WHERE "backlinks" >= 1::BIGINT
ORDER BY "backlinks" DESC NULLS LAST, "url" ASC NULLS LAST, "source_id", "row_ordinal"
LIMIT 20
OFFSET 3
