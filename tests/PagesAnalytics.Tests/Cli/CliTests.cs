using System.Text;
using System.Text.Json;
using PagesAnalytics.Cli;
using PagesAnalytics.Tests.Store;
using PagesAnalytics.Tests.Support;

namespace PagesAnalytics.Tests.Cli;

public class CliTests
{
    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(byte[]? stdin, params string[] args)
    {
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, () => new MemoryStream(stdin ?? []));
        int exit = await PagesCli.RunAsync(args, context);
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()), stderr.ToString());
    }

    private static Task<(int Exit, string Stdout, string Stderr)> RunAsync(params string[] args) => RunAsync(null, args);

    [Fact]
    public async Task Ingest_of_the_samples_succeeds_and_prints_a_summary_to_stderr_only()
    {
        using var dir = new TempDir();
        var (exit, stdout, stderr) = await RunAsync("ingest", Path.Combine(AppContext.BaseDirectory, "sample-responses"), "--store", dir.File("s"));
        Assert.Equal(0, exit);
        Assert.Equal("", stdout);
        Assert.Contains("4 ingested, 0 skipped, 0 rejected; 802 rows in ", stderr);
        Assert.Contains("rows/s", stderr);
        Assert.Matches(@"200\s+629\s+78\.4%", stderr);

        var again = await RunAsync("ingest", Path.Combine(AppContext.BaseDirectory, "sample-responses"), "--store", dir.File("s"));
        Assert.Equal(0, again.Exit);
        Assert.Contains("0 ingested, 4 skipped, 0 rejected; 0 rows", again.Stderr);
    }

    [Fact]
    public async Task Ingest_with_a_rejected_input_exits_3_and_names_the_file_and_position()
    {
        using var dir = new TempDir();
        var (exit, stdout, stderr) = await RunAsync("ingest", TestData.SamplePath("pages_extended-example.json"),
            TestData.FixturePath("bad-value.json"), "--store", dir.File("s"));
        Assert.Equal(3, exit);
        Assert.Equal("", stdout);
        Assert.Contains("rejected: ", stderr);
        Assert.Contains("bad-value.json: record 0 (line 4, byte 49): \"backlinks\" expected a number, got \"lots\"", stderr);
        Assert.Contains("1 ingested, 0 skipped, 1 rejected; 2 rows", stderr);
    }

    [Fact]
    public async Task Ingest_reads_standard_input_for_dash()
    {
        using var dir = new TempDir();
        var (exit, _, stderr) = await RunAsync(File.ReadAllBytes(TestData.SamplePath("pages_extended-example.json")),
            "ingest", "-", "--store", dir.File("s"));
        Assert.Equal(0, exit);
        Assert.Contains("1 ingested", stderr);
        var sources = await RunAsync("sources", "--store", dir.File("s"), "--format", "ndjson");
        using var record = JsonDocument.Parse(sources.Stdout.Trim());
        Assert.Equal("-", record.RootElement.GetProperty("path").GetString());
        Assert.Equal(2, record.RootElement.GetProperty("rows").GetInt64());
        Assert.Equal(393209, record.RootElement.GetProperty("stats_pages").GetInt64());
    }

    [Fact]
    public async Task Usage_errors_exit_2_with_one_line_and_no_stack_trace()
    {
        using var dir = new TempDir();
        var missing = await RunAsync("ingest", dir.File("nope.json"), "--store", dir.File("s"));
        Assert.Equal(2, missing.Exit);
        Assert.Contains("no such file or directory", missing.Stderr);
        Assert.DoesNotContain("   at ", missing.Stderr);

        var unknown = await RunAsync("frobnicate");
        Assert.Equal(2, unknown.Exit);

        var badFormat = await RunAsync("sql", "SELECT 1", "--format", "yaml", "--store", dir.File("s"));
        Assert.Equal(2, badFormat.Exit);

        var write = await RunAsync("sql", "DROP VIEW pages", "--store", dir.File("s"));
        Assert.Equal(2, write.Exit);
        Assert.Contains("read-only", write.Stderr);
        Assert.DoesNotContain("   at ", write.Stderr);

        var badSql = await RunAsync("sql", "SELECT nope FROM pages", "--store", dir.File("s"));
        Assert.Equal(2, badSql.Exit);
        Assert.StartsWith("pages: SQL error", badSql.Stderr);
    }

    [Fact]
    public async Task Sql_writes_csv_json_and_ndjson_with_iso_utc_timestamps()
    {
        using var dir = new TempDir();
        await RunAsync("ingest", TestData.SamplePath("pages_extended-example.json"), "--store", dir.File("s"));
        const string Sql = "SELECT url, http_code, last_visited, title, refdomain_ratio FROM pages ORDER BY row_ordinal";

        var csv = await RunAsync("sql", Sql, "--format", "csv", "--store", dir.File("s"));
        Assert.Equal(0, csv.Exit);
        Assert.Equal(
            "url,http_code,last_visited,title,refdomain_ratio\n" +
            "https://ahrefs.com/,200,2013-11-20T09:46:29Z,Ahrefs Site Explorer & Backlink Checker,0.0713162694170178\n" +
            "http://ahrefs.com/,0,,,\n", csv.Stdout);

        var ndjson = await RunAsync("sql", Sql, "--format", "ndjson", "--store", dir.File("s"));
        Assert.Equal(
            "{\"url\":\"https://ahrefs.com/\",\"http_code\":200,\"last_visited\":\"2013-11-20T09:46:29Z\",\"title\":\"Ahrefs Site Explorer & Backlink Checker\",\"refdomain_ratio\":0.0713162694170178}\n" +
            "{\"url\":\"http://ahrefs.com/\",\"http_code\":0,\"last_visited\":null,\"title\":\"\",\"refdomain_ratio\":null}\n", ndjson.Stdout);

        var json = await RunAsync("sql", Sql, "--format", "json", "--store", dir.File("s"));
        using var array = JsonDocument.Parse(json.Stdout);
        Assert.Equal(2, array.RootElement.GetArrayLength());
        Assert.Equal("2013-11-20T09:46:29Z", array.RootElement[0].GetProperty("last_visited").GetString());
        Assert.Equal(JsonValueKind.Null, array.RootElement[1].GetProperty("last_visited").ValueKind);

        var table = await RunAsync("sql", Sql, "--store", dir.File("s"));
        Assert.Contains("https://ahrefs.com/", table.Stdout);
        Assert.Contains("NULL", table.Stdout);
        Assert.Contains("(2 rows)", table.Stderr);

        var empty = await RunAsync("sql", "SELECT url FROM pages WHERE false", "--format", "json", "--store", dir.File("s"));
        Assert.Equal("[]\n", empty.Stdout);
    }

    [Fact]
    public async Task Csv_quotes_fields_with_commas_quotes_and_newlines()
    {
        using var dir = new TempDir();
        var (_, stdout, _) = await RunAsync("sql", "SELECT 'a,b' AS x, 'say \"hi\"' AS y, 'two' || chr(10) || 'lines' AS z", "--format", "csv", "--store", dir.File("s"));
        Assert.Equal("x,y,z\n\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\n", stdout);
    }

    [Fact]
    public async Task Generate_writes_a_response_that_ingests_with_the_same_totals()
    {
        using var dir = new TempDir();
        var file = dir.File("g.json");
        var (exit, _, stderr) = await RunAsync("generate", "--rows", "1500", "--out", file, "--seed", "3", "--pretty");
        Assert.Equal(0, exit);
        Assert.Contains("wrote 1,500 rows", stderr);
        using (var doc = JsonDocument.Parse(File.ReadAllBytes(file)))
        {
            Assert.Equal(1500, doc.RootElement.GetProperty("pages").GetArrayLength());
        }
        var ingest = await RunAsync("ingest", file, "--store", dir.File("s"));
        Assert.Equal(0, ingest.Exit);
        var count = await RunAsync("sql", "SELECT count(*) AS n FROM pages", "--format", "csv", "--store", dir.File("s"));
        Assert.Equal("n\n1500\n", count.Stdout);
    }

    [Fact]
    public async Task Store_comes_from_the_environment_when_no_option_is_given()
    {
        using var dir = new TempDir();
        var (exit, stdout, stderr) = await PagesStoreTests.RunCliProcessWithEnvAsync(
            new Dictionary<string, string> { ["PAGES_STORE"] = dir.File("env-store") },
            "ingest", TestData.SamplePath("pages_extended-example.json"));
        Assert.Equal(0, exit);
        Assert.Equal("", stdout);
        Assert.Contains(dir.File("env-store"), stderr);
        Assert.True(File.Exists(Path.Combine(dir.File("env-store"), "sources", "0.json")));
    }
}
