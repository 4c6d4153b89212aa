using System.Security.Cryptography;
using System.Text;
using Apache.Arrow.Ipc;
using DuckDB.NET.Data;
using PagesAnalytics.Cli;
using PagesAnalytics.Query;
using PagesAnalytics.Tests.Support;

namespace PagesAnalytics.Tests.Query;

/// <summary>pages query and pages report end to end: golden outputs, formats, cost, snapshots, errors, injection.</summary>
public sealed class QueryCliTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _samples;
    private readonly string _example;

    public QueryCliTests()
    {
        _example = _dir.File("example-store");
        _samples = _dir.File("samples-store");
        Assert.Equal(0, Run(null, "ingest", TestData.SamplePath("pages_extended-example.json"), "--store", _example).Exit);
        Assert.Equal(0, Run(null, "ingest", Path.Combine(AppContext.BaseDirectory, "sample-responses"), "--store", _samples).Exit);
    }

    public void Dispose() => _dir.Dispose();

    private static (int Exit, string Stdout, string Stderr) Run(byte[]? stdin, params string[] args)
    {
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int exit = PagesCli.RunAsync(args, new CliContext(stdout, stderr, () => new MemoryStream(stdin ?? []))).GetAwaiter().GetResult();
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()), stderr.ToString());
    }

    private static string Golden(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", name));

    [Fact]
    public void V2json_of_the_documented_example_is_the_api_shape()
    {
        var (exit, stdout, _) = Run(null, "query", "--store", _example, "--format", "v2json");
        Assert.Equal(0, exit);
        Assert.Equal(Golden("example.v2.json"), stdout);
        // Field for field the documented example, in the documented order; stats counts the matching rows.
        using var ours = System.Text.Json.JsonDocument.Parse(stdout);
        using var documented = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(TestData.SamplePath("pages_extended-example.json")));
        Assert.True(System.Text.Json.JsonElement.DeepEquals(documented.RootElement.GetProperty("pages"), ours.RootElement.GetProperty("pages")));
        Assert.Equal(2, ours.RootElement.GetProperty("stats").GetProperty("pages").GetInt64());
    }

    [Fact]
    public void Xml_of_the_documented_example_is_the_api_shape()
    {
        var (exit, stdout, _) = Run(null, "query", "--store", _example, "--format", "xml");
        Assert.Equal(0, exit);
        Assert.Equal(Golden("example.v2.xml"), stdout);
        Assert.Contains("<last_visited>1970-01-01T00:00:00Z</last_visited>", stdout);
        Assert.Contains("<title>Ahrefs Site Explorer &amp; Backlink Checker</title>", stdout);
    }

    [Theory]
    [InlineData("http-codes")]
    [InlineData("refdomain-ratios")]
    [InlineData("hosts")]
    [InlineData("ranks")]
    [InlineData("timeline")]
    [InlineData("redirects")]
    public void Each_report_on_the_sample_dataset_matches_its_golden_file(string report)
    {
        var (exit, stdout, stderr) = Run(null, "report", report, "--store", _samples, "--format", "csv");
        Assert.True(exit == 0, stderr);
        Assert.Equal(Golden($"reports/{report}.csv"), stdout);
    }

    [Fact]
    public void Report_where_filters_rows_and_having_filters_the_report()
    {
        var (_, stdout, _) = Run(null, "report", "hosts", "--store", _samples, "--where", "http_code=200", "--having", "pages>=100", "--format", "csv");
        var lines = stdout.TrimEnd('\n').Split('\n');
        Assert.Equal("host,pages,backlinks,refdomains,share_2xx_pct", lines[0]);
        Assert.All(lines.Skip(1), l => Assert.EndsWith(",100", l)); // only 2xx rows were grouped
        Assert.All(lines.Skip(1), l => Assert.True(long.Parse(l.Split(',')[1]) >= 100));
        Assert.True(lines.Length >= 2);

        var bad = Run(null, "report", "hosts", "--store", _samples, "--having", "pagez>1");
        Assert.Equal(2, bad.Exit);
        Assert.Contains("having: unknown column 'pagez' at 0 (did you mean 'pages'?)", bad.Stderr);
    }

    [Fact]
    public void Query_applies_where_order_by_limit_offset_and_reports_the_cost()
    {
        var (exit, stdout, stderr) = Run(null, "query", "--store", _samples, "--where", "http_code=404", "--select", "url,backlinks",
            "--order-by", "backlinks:desc,url", "--limit", "3", "--offset", "1", "--format", "csv", "--cost");
        Assert.Equal(0, exit);
        var expected = Sql(_samples, """
            SELECT url, backlinks FROM pages_latest WHERE http_code = 404 ORDER BY backlinks DESC NULLS LAST, url, source_id, row_ordinal LIMIT 3 OFFSET 1
            """);
        Assert.Equal(expected, stdout);
        Assert.Contains("cost: 14 rows (1 request + 3 results + 5 where + 5 offset)", stderr);

        var all = Run(null, "query", "--store", _samples, "--limit", "all", "--format", "ndjson", "--select", "url");
        Assert.Equal(802, all.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // ndjson: one line per url, 802 distinct
        var byDefault = Run(null, "query", "--store", _samples, "--format", "ndjson", "--select", "url", "--cost");
        Assert.Equal(802, byDefault.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("cost: 803 rows (1 request + 802 results)", byDefault.Stderr);
    }

    [Fact]
    public void Where_filters_before_deduplication_and_having_after()
    {
        var store = _dir.File("snapshots");
        File.WriteAllText(_dir.File("old-2023-01-01.json"), """{"pages":[{"url":"https://a.com/","http_code":200,"backlinks":5}]}""");
        File.WriteAllText(_dir.File("new-2024-01-01.json"), """{"pages":[{"url":"https://a.com/","http_code":404,"backlinks":1}]}""");
        Run(null, "ingest", _dir.File("old-2023-01-01.json"), _dir.File("new-2024-01-01.json"), "--store", store);

        Assert.Equal("http_code,backlinks\n404,1\n", Run(null, "query", "--store", store, "--select", "http_code,backlinks", "--format", "csv").Stdout);
        // where picks the 200 row first, then de-duplication keeps it
        Assert.Equal("http_code,backlinks\n200,5\n", Run(null, "query", "--store", store, "--select", "http_code,backlinks", "--where", "http_code=200", "--format", "csv").Stdout);
        // having looks at the newest row per url only
        Assert.Equal("http_code,backlinks\n", Run(null, "query", "--store", store, "--select", "http_code,backlinks", "--having", "http_code=200", "--format", "csv").Stdout);
        Assert.Equal("http_code,backlinks\n200,5\n404,1\n", Run(null, "query", "--store", store, "--select", "http_code,backlinks", "--all-snapshots", "--order-by", "http_code", "--format", "csv").Stdout);
    }

    [Theory]
    [InlineData("first_seen>\"2015-01-01\"", "first_seen >= TIMESTAMPTZ '2015-01-02 00:00:00+00'")]
    [InlineData("last_visited<\"2024-06-01\"", "last_visited < TIMESTAMPTZ '2024-06-01 00:00:00+00'")]
    [InlineData("first_seen=\"2013-11-20\"", "first_seen >= TIMESTAMPTZ '2013-11-20 00:00:00+00' AND first_seen < TIMESTAMPTZ '2013-11-21 00:00:00+00'")]
    public void Timestamp_filters_find_every_matching_row_in_the_stored_parts(string where, string sql)
    {
        // "+ INTERVAL 0 DAY" keeps DuckDB from pruning row groups by Parquet statistics: the data itself answers.
        string unpruned = sql.Replace("first_seen", "(first_seen + INTERVAL 0 DAY)", StringComparison.Ordinal)
            .Replace("last_visited", "(last_visited + INTERVAL 0 DAY)", StringComparison.Ordinal);
        var expected = Sql(_samples, $"SELECT count(*) AS n FROM pages WHERE {unpruned}");
        Assert.NotEqual("n\n0\n", expected);
        Assert.Equal(expected, Sql(_samples, $"SELECT count(*) AS n FROM pages WHERE {sql}"));
        var (exit, stdout, _) = Run(null, "query", "--store", _samples, "--all-snapshots", "--limit", "all", "--where", where, "--format", "csv", "--select", "url");
        Assert.Equal(0, exit);
        Assert.Equal(long.Parse(expected.Split('\n')[1]), stdout.TrimEnd('\n').Split('\n').Length - 1);
    }

    [Fact]
    public void All_snapshots_without_order_by_streams_in_the_apis_order()
    {
        var (exit, stdout, _) = Run(null, "query", "--store", _samples, "--all-snapshots", "--limit", "all", "--select", "url,backlinks", "--format", "csv");
        Assert.Equal(0, exit);
        Assert.Equal(Sql(_samples, "SELECT url, backlinks FROM pages ORDER BY source_id, row_ordinal"), stdout);
    }

    [Fact]
    public void Target_and_mode_select_the_requested_urls()
    {
        string Urls(string mode, string target) => Run(null, "query", "--store", _samples, "--target", target, "--mode", mode, "--select", "url",
            "--order-by", "url", "--limit", "all", "--format", "csv").Stdout;
        Assert.Equal("url\nhttp://ahrefs.com/\nhttps://ahrefs.com/\n", Urls("domain", "ahrefs.com"));
        Assert.Equal("url\nhttp://ahrefs.com/\nhttps://ahrefs.com/\n", Urls("exact", "ahrefs.com/"));
        Assert.Equal(Sql(_samples, "SELECT url FROM pages_latest WHERE host = 'shop.example.org' OR host LIKE '%.shop.example.org' ORDER BY url"),
            Urls("subdomains", "shop.example.org"));
        Assert.Equal(Sql(_samples, "SELECT url FROM pages_latest WHERE regexp_replace(url, '^https?://', '') LIKE 'blog.example.com/%' ORDER BY url"),
            Urls("prefix", "blog.example.com/"));
    }

    [Fact]
    public void Filter_errors_exit_2_with_a_caret_and_a_suggestion()
    {
        var (exit, stdout, stderr) = Run(null, "query", "--store", _samples, "--where", "http_code=200,refdomain>3");
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Contains("where: unknown column 'refdomain' at 14 (did you mean 'refdomains'?)", stderr);
        Assert.Contains("http_code=200,refdomain>3\n", stderr);
        Assert.Contains("\n              ^", stderr);
        Assert.DoesNotContain("   at ", stderr);

        var typed = Run(null, "query", "--store", _samples, "--where", "http_code=\"2020-01-01\"");
        Assert.Equal(2, typed.Exit);
        var limit = Run(null, "query", "--store", _samples, "--limit", "lots");
        Assert.Equal(2, limit.Exit);
    }

    [Fact]
    public void Parquet_and_arrow_outputs_are_read_back_with_the_same_rows_and_types()
    {
        var parquet = _dir.File("out.parquet");
        var arrow = _dir.File("out.arrow");
        Assert.Equal(0, Run(null, "query", "--store", _samples, "--select", "*,host,refdomain_ratio", "--limit", "all", "--format", "parquet", "--out", parquet).Exit);
        Assert.Equal(0, Run(null, "query", "--store", _samples, "--limit", "all", "--format", "arrow", "--out", arrow).Exit);

        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        command.CommandText = $"SELECT count(*), sum(backlinks)::BIGINT, count(last_visited) FROM read_parquet('{parquet}')";
        using (var reader = command.ExecuteReader())
        {
            reader.Read();
            Assert.Equal(Sql(_samples, "SELECT count(*), sum(backlinks)::BIGINT, count(last_visited) FROM pages_latest").Split('\n')[1],
                $"{reader.GetValue(0)},{reader.GetValue(1)},{reader.GetValue(2)}");
        }
        command.CommandText = $"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{parquet}')) WHERE column_name IN ('first_seen', 'backlinks', 'http_code', 'refdomain_ratio')";
        var types = new Dictionary<string, string>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                types[reader.GetString(0)] = reader.GetString(1);
            }
        }
        Assert.Equal("TIMESTAMP WITH TIME ZONE", types["first_seen"]);
        Assert.Equal("BIGINT", types["backlinks"]);
        Assert.Equal("INTEGER", types["http_code"]);
        Assert.Equal("DOUBLE", types["refdomain_ratio"]);

        using var file = File.OpenRead(arrow);
        using var ipc = new ArrowFileReader(file);
        long rows = 0;
        while (ipc.ReadNextRecordBatch() is { } batch)
        {
            rows += batch.Length;
            Assert.Equal(19, batch.ColumnCount);
        }
        Assert.Equal(802, rows);
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp-*"));
    }

    [Theory]
    [InlineData("title=\"x'; DROP VIEW pages; --\"")]
    [InlineData("title=\"\\\"); COPY (SELECT 1) TO '/tmp/pages-pwned.csv'; --\"")]
    [InlineData("substring(url,\"' OR 1=1 /*\")")]
    [InlineData("url=\"'); ATTACH '/tmp/pages-pwned.db' AS x; --\"")]
    [InlineData("title;DROP VIEW pages=1")]
    [InlineData("{\"field\":\"url\\\"; DROP VIEW pages; --\",\"is\":[\"eq\",1]}")]
    [InlineData("http_code=200 OR 1=1")]
    public void Hostile_filters_fail_to_parse_or_match_literally_and_leave_the_store_untouched(string where)
    {
        var before = Fingerprint(_samples);
        var (exit, stdout, _) = Run(null, "query", "--store", _samples, "--where", where, "--format", "csv", "--select", "url");
        Assert.True(exit is 0 or 2);
        if (exit == 0)
        {
            Assert.Equal("url\n", stdout); // matched literally: no such title or url
        }
        Assert.Equal(before, Fingerprint(_samples));
        Assert.False(File.Exists("/tmp/pages-pwned.csv"));
        Assert.False(File.Exists("/tmp/pages-pwned.db"));
        Assert.Equal("n\n802\n", Run(null, "sql", "SELECT count(*) AS n FROM pages", "--store", _samples, "--format", "csv").Stdout);
    }

    private static string Fingerprint(string store)
    {
        var text = new StringBuilder();
        foreach (var file in Directory.GetFiles(store, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(file) == ".lock")
            {
                continue;
            }
            text.Append(Path.GetRelativePath(store, file)).Append(' ').Append(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)))).Append('\n');
        }
        return text.ToString();
    }

    private static string Sql(string store, string sql)
    {
        var (exit, stdout, stderr) = Run(null, "sql", sql, "--store", store, "--format", "csv");
        Assert.True(exit == 0, stderr);
        return stdout;
    }
}
