using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using DuckDB.NET.Data;
using PagesAnalytics.Query;
using PagesAnalytics.Store;

namespace PagesAnalytics.Benchmarks;

/// <summary>
/// <c>query-bench --store DIR [--reps N]</c>: our compiled report and query against hand-written DuckDB SQL that does
/// the same over the same Parquet parts, interleaved (A B A B ...), each run from a fresh connection; medians and ratios.
/// </summary>
internal static class QueryBench
{
    private const string Where = "http_code=200,refdomains>=5";
    private const string Having = "backlinks>100";
    private const string OrderBy = "refdomains:desc";

    public static bool IsCommand(string name) => name == "query-bench";

    public static int Run(string[] args)
    {
        string? storeDir = null;
        int reps = 5;
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--store" when i + 1 < args.Length:
                    storeDir = args[++i];
                    break;
                case "--reps" when i + 1 < args.Length:
                    reps = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine($"query-bench: unknown argument {args[i]}");
                    return 2;
            }
        }
        if (storeDir is null)
        {
            Console.Error.WriteLine("usage: query-bench --store DIR [--reps N]");
            return 2;
        }
        var store = PagesStore.Open(storeDir);
        string parts = Path.Combine(store.Directory, "parts", "*", "*.parquet").Replace("'", "''", StringComparison.Ordinal);
        string sources = Path.Combine(store.Directory, "sources", "*.json").Replace("'", "''", StringComparison.Ordinal);
        long rows = Scalar(store, "SELECT count(*) FROM pages");
        Console.WriteLine($"# query-bench on {store.Directory}: {rows:N0} rows, {reps} interleaved repetitions, median seconds");
        Console.WriteLine();
        Console.WriteLine("| case | ours (s) | hand-written DuckDB (s) | ratio | rows out |");
        Console.WriteLine("|---|---:|---:|---:|---:|");

        const string ApiColumns = "url, ahrefs_rank, first_seen, last_visited, http_code, size, links_internal, links_external, encoding, title, redirect_url, content_encoding, backlinks, dofollow, nofollow, redirects, refdomains, refclass_c, refips";
        string latest = $"""
            WITH s AS (SELECT source_id, snapshot::DATE AS snapshot FROM read_json('{sources}') WHERE status IN ('ok', 'partial')),
            m AS (SELECT p.* FROM read_parquet('{parts}') p JOIN s USING (source_id) __FILTER__
                  QUALIFY row_number() OVER (PARTITION BY p.url ORDER BY s.snapshot DESC NULLS LAST, p.source_id DESC, p.row_ordinal) = 1)
            """;
        // What a user would write by hand for the same table: grouped by code, classes rolled up from the codes.
        const string HandCodes = """
            , codes AS (
                SELECT http_code, CASE WHEN http_code IS NULL THEN 'NULL' WHEN http_code = 0 THEN '0' WHEN http_code BETWEEN 100 AND 599
                       THEN CAST(http_code // 100 AS VARCHAR) || 'xx' ELSE 'other' END AS http_class,
                       count(*) AS pages, sum(backlinks) AS backlinks, sum(refdomains) AS refdomains
                FROM m GROUP BY ALL)
            SELECT 'class' AS level, http_class, NULL::INTEGER AS http_code, sum(pages) AS pages, round(100.0 * sum(pages) / sum(sum(pages)) OVER (), 2) AS share_pct,
                   sum(backlinks) AS backlinks, sum(refdomains) AS refdomains FROM codes GROUP BY http_class
            UNION ALL
            SELECT 'code', http_class, http_code, pages, round(100.0 * pages / sum(pages) OVER (), 2), backlinks, refdomains FROM codes
            ORDER BY 1, 2, 3 NULLS FIRST
            """;

        Compare("report http-codes (one row per url)", reps, store,
            session => Consume(Reports.Compile(Reports.Find("http-codes"), null, null, null, null).CreateCommand(session.Connection)),
            latest.Replace("__FILTER__", "", StringComparison.Ordinal) + HandCodes);
        Compare("report http-codes --all-snapshots", reps, store,
            session => Consume(Reports.Compile(Reports.Find("http-codes"), null, null, null, null, allSnapshots: true).CreateCommand(session.Connection)),
            $"WITH m AS (SELECT * FROM read_parquet('{parts}')) " + HandCodes);
        var query = new PagesQueryOptions { Where = Where, Having = Having, OrderBy = OrderBy, Limit = 100 };
        Compare($"query --where '{Where}' --having '{Having}' --order-by {OrderBy} --limit 100", reps, store,
            session =>
            {
                var compiled = PagesQueryCompiler.Compile(query);
                return Consume(compiled.CreateCommand(session.Connection, compiled.Sql));
            },
            latest.Replace("__FILTER__", "WHERE p.http_code = 200 AND p.refdomains >= 5", StringComparison.Ordinal)
            + $" SELECT {ApiColumns} FROM m WHERE backlinks > 100 ORDER BY refdomains DESC NULLS LAST, source_id, row_ordinal LIMIT 100");
        Compare("same query --all-snapshots", reps, store,
            session =>
            {
                var compiled = PagesQueryCompiler.Compile(query with { AllSnapshots = true });
                return Consume(compiled.CreateCommand(session.Connection, compiled.Sql));
            },
            $"SELECT {ApiColumns} FROM read_parquet('{parts}') WHERE http_code = 200 AND refdomains >= 5 AND backlinks > 100 ORDER BY refdomains DESC NULLS LAST, source_id, row_ordinal LIMIT 100");
        return 0;
    }

    private static void Compare(string name, int reps, PagesStore store, Func<QuerySession, long> ours, string handSql)
    {
        var oursTimes = new List<double>();
        var handTimes = new List<double>();
        long oursRows = 0, handRows = 0;
        for (int i = 0; i < reps; i++)
        {
            var clock = Stopwatch.StartNew();
            using (var session = store.OpenQuery())
            {
                oursRows = ours(session);
            }
            oursTimes.Add(clock.Elapsed.TotalSeconds);

            clock.Restart();
            using (var connection = new DuckDBConnection("DataSource=:memory:"))
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = handSql;
                handRows = Consume(command);
            }
            handTimes.Add(clock.Elapsed.TotalSeconds);
        }
        double o = Median(oursTimes), h = Median(handTimes);
        string check = oursRows == handRows ? oursRows.ToString("N0", CultureInfo.InvariantCulture) : $"{oursRows:N0} vs {handRows:N0} (!)";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {o:F3} | {h:F3} | {o / h:F2}x | {check} |"));
    }

    private static long Consume(DbCommand command)
    {
        using (command)
        using (var reader = command.ExecuteReader())
        {
            long rows = 0;
            while (reader.Read())
            {
                for (int i = 0; i < reader.FieldCount; i++)
                {
                    _ = reader.IsDBNull(i) ? null : reader.GetValue(i);
                }
                rows++;
            }
            return rows;
        }
    }

    private static long Scalar(PagesStore store, string sql)
    {
        using var session = store.OpenQuery();
        using var command = session.Connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
    }
}
