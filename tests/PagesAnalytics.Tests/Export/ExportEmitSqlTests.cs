using System.Text;
using DuckDB.NET.Data;
using PagesAnalytics.Export;
using PagesAnalytics.Query;

namespace PagesAnalytics.Tests.Export;

/// <summary>The sample store of <see cref="ExportStoreFixture"/>, exported once (all snapshots, partitioned by http_class).</summary>
public sealed class ExportedStoreFixture : IDisposable
{
    private readonly ExportStoreFixture _store = new();

    public ExportedStoreFixture()
    {
        Export = _store.Dir.File("export");
        var (exit, _, stderr) = Cli.Run("export", "--store", _store.Store, "--all-snapshots", "--partition-by", "http_class", "--out", Export);
        Assert.True(exit == 0, stderr);
    }

    public string Store => _store.Store;

    public string Export { get; }

    public void Dispose() => _store.Dispose();
}

/// <summary>
/// <c>--emit-sql</c>: golden SQL per dialect for a set of queries and reports, and the DuckDB dialect's SQL, run over a
/// partitioned export, returns exactly what <c>pages query</c> / <c>pages report</c> return from the store.
/// Set PAGES_UPDATE_GOLDEN=1 to rewrite the golden files under tests/PagesAnalytics.Tests/golden/sql/.
/// </summary>
public sealed class ExportEmitSqlTests : IClassFixture<ExportedStoreFixture>
{
    private static readonly string[] Dialects = ["duckdb", "spark", "trino"];

    private readonly ExportedStoreFixture _fixture;

    public ExportEmitSqlTests(ExportedStoreFixture fixture) => _fixture = fixture;

    public static TheoryData<string, string[]> Cases => new()
    {
        { "query-default", ["query"] },
        { "query-where-having-order", ["query", "--where", "http_code>=300,substring(title,\"e\")", "--having", "backlinks>=1",
            "--order-by", "backlinks:desc,url", "--limit", "20", "--offset", "3"] },
        { "query-target-subdomains", ["query", "--target", "example.com", "--mode", "subdomains", "--select", "url,host,http_code",
            "--order-by", "url", "--limit", "all"] },
        { "query-target-exact", ["query", "--target", "https://a.com", "--mode", "exact", "--all-snapshots", "--select", "url,http_code,source_id"] },
        { "query-target-prefix", ["query", "--target", "blog.example.com/", "--mode", "prefix", "--all-snapshots", "--limit", "all"] },
        { "query-v3-or-not", ["query", "--where",
            """{"or":[{"not":{"field":"http_code","is":["eq",200]}},{"field":"title","is":["isubstring","SEO"]}]}""",
            "--select", "*,refdomain_ratio", "--order-by", "refdomain_ratio:desc", "--limit", "50"] },
        { "query-v3-text-ops", ["query", "--where",
            """{"and":[{"field":"url","is":["suffix","/"]},{"field":"title","is":["regex","^[A-Z]"]},{"field":"redirect_url","is":"empty"},{"field":"url","is":["prefix","http"]}]}""",
            "--limit", "all", "--select", "url,title"] },
        { "query-word-subdomain", ["query", "--where", "word(title,\"example\"),subdomain(url,\"example.com\")", "--limit", "all"] },
        { "query-dates", ["query", "--where", "first_seen>=\"2015-01-01\",last_visited<\"2024-06-01T12:00:00+02:00\"", "--limit", "all",
            "--select", "url,first_seen,last_visited"] },
        { "query-escapes", ["query", "--where",
            "title=\"it's \\\\ a \\\"quote\\\"; DROP TABLE pages; --\",url<>\"x\\0y\",refdomain_ratio>0.25,backlinks>-9223372036854775808",
            "--limit", "all"] },
        { "report-http-codes", ["report", "http-codes"] },
        { "report-refdomain-ratios", ["report", "refdomain-ratios"] },
        { "report-hosts", ["report", "hosts", "--where", "http_code=200", "--having", "pages>=2"] },
        { "report-ranks", ["report", "ranks", "--all-snapshots"] },
        { "report-timeline", ["report", "timeline"] },
        { "report-redirects", ["report", "redirects", "--target", "example.com", "--mode", "subdomains"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Emitted_sql_matches_the_golden_file_for_each_dialect(string name, string[] request)
    {
        foreach (var dialect in Dialects)
        {
            var (exit, sql, stderr) = Cli.Run([.. request, "--emit-sql", "--dialect", dialect]);
            Assert.True(exit == 0, stderr);
            string file = $"{name}.{dialect}.sql";
            if (Environment.GetEnvironmentVariable("PAGES_UPDATE_GOLDEN") == "1")
            {
                File.WriteAllText(Path.Combine(SourceGoldenDirectory(), file), sql);
                continue;
            }
            Assert.Equal(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "sql", file)), sql);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DuckDb_sql_over_the_export_returns_what_the_store_returns(string name, string[] request)
    {
        var (exit, expected, stderr) = Cli.Run([.. request, "--store", _fixture.Store, "--format", "csv"]);
        Assert.True(exit == 0, stderr);
        var (emitExit, sql, emitError) = Cli.Run([.. request, "--emit-sql", "--dialect", "duckdb", "--from", _fixture.Export]);
        Assert.True(emitExit == 0, emitError);
        Assert.Contains($"read_parquet('{_fixture.Export}/**/*.parquet', hive_partitioning = true)", sql);

        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var csv = new MemoryStream();
        TabularWriter.Write(reader, csv, TextFormat.Csv);
        Assert.Equal(expected, Encoding.UTF8.GetString(csv.ToArray()));
        if (name is "query-default" or "report-hosts" or "query-target-exact")
        {
            Assert.True(expected.Split('\n').Length > 2, $"{name} should return rows");
        }
    }

    [Fact]
    public void Deduplication_in_the_emitted_sql_keeps_the_newest_snapshot_as_the_store_does()
    {
        // https://a.com/ is 200 in the 2023 snapshot and 404 in 2024; the export holds both rows.
        var request = new[] { "query", "--target", "a.com", "--mode", "exact", "--select", "url,http_code,backlinks", "--format", "csv" };
        Assert.Equal("url,http_code,backlinks\nhttps://a.com/,404,1\n", Cli.Run([.. request, "--store", _fixture.Store]).Stdout);
        var (_, sql, _) = Cli.Run([.. request[..^2], "--emit-sql", "--from", _fixture.Export]);
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(404, reader.GetInt32(1));
        Assert.False(reader.Read());
    }

    [Fact]
    public void Literals_are_escaped_per_dialect()
    {
        var node = FilterParser.Parse("title=\"a'b\\\\c\"");
        Assert.Equal("\"title\" = 'a''b\\c'::VARCHAR", FilterCompiler.ToInlineSql(node, SqlDialect.DuckDb));
        Assert.Equal("`title` = 'a\\'b\\\\c'", FilterCompiler.ToInlineSql(node, SqlDialect.Spark));
        Assert.Equal("\"title\" = 'a''b\\c'", FilterCompiler.ToInlineSql(node, SqlDialect.Trino));

        var nul = FilterParser.Parse("title=\"a\\0b\"");
        Assert.Equal("`title` = ('a' || chr(0) || 'b')", FilterCompiler.ToInlineSql(nul, SqlDialect.Spark));
        Assert.Equal("\"title\" = ('a' || chr(0) || 'b')", FilterCompiler.ToInlineSql(nul, SqlDialect.Trino));

        Assert.Equal("`http_code` > CAST(-5 AS BIGINT)", FilterCompiler.ToInlineSql(FilterParser.Parse("http_code>-5"), SqlDialect.Spark));
        Assert.Equal("\"backlinks\" > (CAST(-9223372036854775807 AS BIGINT) - 1)",
            FilterCompiler.ToInlineSql(FilterParser.Parse("backlinks>-9223372036854775808"), SqlDialect.Trino));
        Assert.Equal("`refdomain_ratio` >= CAST(0.5 AS DOUBLE)", FilterCompiler.ToInlineSql(FilterParser.Parse("refdomain_ratio>=0.5"), SqlDialect.Spark));
        var instant = FilterParser.Parse("first_seen>\"2020-01-01T10:00:00.5+02:00\"");
        Assert.Equal("`first_seen` > TIMESTAMP '2020-01-01 08:00:00.500000Z'", FilterCompiler.ToInlineSql(instant, SqlDialect.Spark));
        Assert.Equal("\"first_seen\" > TIMESTAMP '2020-01-01 08:00:00.500000 UTC'", FilterCompiler.ToInlineSql(instant, SqlDialect.Trino));
        Assert.Equal("(NOT coalesce(\"http_code\" = CAST(200 AS BIGINT), false))",
            FilterCompiler.ToInlineSql(FilterParser.Parse("""{"not":{"field":"http_code","is":["eq",200]}}"""), SqlDialect.Trino));
        // word(): the value's regex metacharacters are escaped for Java regexes, then written as a literal of the dialect.
        Assert.Equal("(lower(`title`) RLIKE ('(^|[^\\\\p{L}\\\\p{N}\\\\p{M}])' || lower('c\\\\+\\\\+ \\\\(x\\\\)') || '([^\\\\p{L}\\\\p{N}\\\\p{M}]|$)'))",
            FilterCompiler.ToInlineSql(FilterParser.Parse("word(title,\"c++ (x)\")"), SqlDialect.Spark));
        Assert.Equal("regexp_like(lower(\"title\"), '(^|[^\\p{L}\\p{N}\\p{M}])' || lower('c\\+\\+ \\(x\\)') || '([^\\p{L}\\p{N}\\p{M}]|$)')",
            FilterCompiler.ToInlineSql(FilterParser.Parse("word(title,\"c++ (x)\")"), SqlDialect.Trino));
        Assert.Equal("c\\+\\+ \\(x\\) \\$1 \\\\ é", FilterCompiler.EscapeRegex("c++ (x) $1 \\ é"));
    }

    [Fact]
    public void Emitted_sql_names_the_export_safely_and_needs_emit_sql_for_its_options()
    {
        Assert.Contains("FROM parquet.`/data/we``ird`", Cli.Run("query", "--emit-sql", "--dialect", "spark", "--from", "/data/we`ird").Stdout);
        Assert.Contains("FROM read_parquet('/data/it''s.parquet', hive_partitioning = true)",
            Cli.Run("query", "--emit-sql", "--from", "/data/it's.parquet").Stdout);
        Assert.Contains("FROM \"hive\".\"web\".\"pages\"", Cli.Run("query", "--emit-sql", "--dialect", "trino", "--from", "hive.web.pages").Stdout);
        Assert.Contains("-- replace \"pages_export\" with a table", Cli.Run("report", "hosts", "--emit-sql", "--dialect", "trino").Stdout);

        Assert.Equal(2, Cli.Run("query", "--emit-sql", "--dialect", "trino", "--from", "a..b").Exit);
        Assert.Equal(2, Cli.Run("query", "--dialect", "spark").Exit);
        Assert.Equal(2, Cli.Run("query", "--emit-sql", "--dialect", "mysql").Exit);
        var bad = Cli.Run("query", "--emit-sql", "--where", "refdomain>1");
        Assert.Equal(2, bad.Exit);
        Assert.Contains("did you mean 'refdomains'", bad.Stderr);
        Assert.Equal("", bad.Stdout);
        // No store is needed to print SQL.
        Assert.Equal(0, Cli.Run("report", "ranks", "--emit-sql", "--store", "/nonexistent/store").Exit);
    }

    // Parquet.Net 6.1.0 writes TIMESTAMP min/max statistics in milliseconds whatever the unit (parquet-dotnet#769);
    // readers prune row groups by them, so timestamps are written as MILLIS. This test fails if that regresses.
    [Fact]
    public void Timestamp_filters_over_an_export_find_every_matching_row()
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        // + INTERVAL 0 DAY defeats statistics pruning: the data itself answers.
        command.CommandText = $"""
            SELECT (SELECT count(*) FROM read_parquet('{_fixture.Export}/**/*.parquet') WHERE first_seen >= TIMESTAMPTZ '2015-01-01 00:00:00+00'),
                   (SELECT count(*) FROM read_parquet('{_fixture.Export}/**/*.parquet') WHERE first_seen + INTERVAL 0 DAY >= TIMESTAMPTZ '2015-01-01 00:00:00+00')
            """;
        using var reader = command.ExecuteReader();
        reader.Read();
        Assert.True(reader.GetInt64(1) > 0);
        Assert.Equal(reader.GetInt64(1), reader.GetInt64(0));
    }

    private static string SourceGoldenDirectory()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PagesAnalytics.Tests.csproj")))
        {
            directory = directory.Parent;
        }
        string golden = Path.Combine(directory?.FullName ?? throw new DirectoryNotFoundException("tests project not found"), "golden", "sql");
        Directory.CreateDirectory(golden);
        return golden;
    }
}
