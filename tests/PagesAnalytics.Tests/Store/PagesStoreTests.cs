using System.Diagnostics;
using DuckDB.NET.Data;
using PagesAnalytics.Ingest;
using PagesAnalytics.Schema;
using PagesAnalytics.Store;
using PagesAnalytics.Tests.Ingest;
using PagesAnalytics.Tests.Support;

namespace PagesAnalytics.Tests.Store;

public class PagesStoreTests
{
    private static async Task<IngestSummary> IngestAsync(PagesStore store, params string[] paths)
        => await Ingestor.RunAsync(store, InputSource.Expand(paths, () => Stream.Null));

    private static List<object?[]> Query(PagesStore store, string sql)
    {
        using var session = store.OpenQuery();
        using var reader = session.ExecuteReadOnly(sql);
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }
            rows.Add(row);
        }
        return rows;
    }

    [Fact]
    public async Task Example_round_trips_json_to_parquet_to_duckdb_with_every_field_equal()
    {
        using var dir = new TempDir();
        var store = PagesStore.Open(dir.File("store"));
        var summary = await IngestAsync(store, TestData.SamplePath("pages_extended-example.json"));
        Assert.Equal(1, summary.Ingested);
        Assert.Equal(2, summary.Rows);

        var columns = string.Join(", ", PagesSchema.Columns.Select(c => c.Name));
        var rows = Query(store, $"SELECT {columns} FROM pages ORDER BY row_ordinal");
        Assert.Equal(2, rows.Count);
        for (int r = 0; r < 2; r++)
        {
            for (int c = 0; c < PagesSchema.Columns.Count; c++)
            {
                object? expected = ResponseReaderTests.ExampleRows[r][c];
                object? actual = rows[r][c];
                if (c == PagesSchema.SourceIdIndex)
                {
                    Assert.Equal(0, actual); // first source of a new store
                    continue;
                }
                if (expected is DateTimeOffset when)
                {
                    // DuckDB hands TIMESTAMPTZ back as a UTC DateTime.
                    Assert.Equal(when.UtcDateTime, DateTime.SpecifyKind((DateTime)actual!, DateTimeKind.Utc));
                    continue;
                }
                Assert.True(Equals(expected, actual), $"row {r} column {PagesSchema.Columns[c].Name}: expected {expected ?? "NULL"}, got {actual ?? "NULL"}");
            }
        }

        // Types as DESIGN.md says, read by DuckDB (an independent reader).
        var types = Query(store, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM pages)")
            .ToDictionary(r => (string)r[0]!, r => (string)r[1]!);
        foreach (var column in PagesSchema.Columns)
        {
            Assert.Equal(column.Kind == ColumnKind.Timestamp ? "TIMESTAMP WITH TIME ZONE" : column.DuckDbType, types[column.Name]);
        }
        Assert.Equal("DOUBLE", types["refdomain_ratio"]);
        Assert.Equal("VARCHAR", types["host"]);

        var source = Assert.Single(Query(store, "SELECT rows, stats_pages, status, parts FROM sources"));
        Assert.Equal([2L, 393209L, "ok", 1], source);
    }

    [Fact]
    public async Task Derived_columns_give_host_and_null_ratios_on_division_by_zero()
    {
        using var dir = new TempDir();
        var file = dir.File("r.json");
        File.WriteAllText(file, """
            {"pages":[
            {"url":"https://WWW.Ahrefs.com:443/path?q=1","backlinks":10,"dofollow":4,"refdomains":5,"refclass_c":4,"refips":5},
            {"url":"http://user@blog.ahrefs.com","backlinks":0,"dofollow":0,"refdomains":0,"refclass_c":0,"refips":0},
            {"url":"ahrefs.com/no-scheme","backlinks":null}]}
            """);
        var store = PagesStore.Open(dir.File("store"));
        await IngestAsync(store, file);
        var rows = Query(store, "SELECT host, refdomain_ratio, dofollow_ratio, class_c_per_refdomain, ips_per_refdomain FROM pages ORDER BY row_ordinal");
        Assert.Equal(["www.ahrefs.com", 0.5, 0.4, 0.8, 1.0], rows[0]);
        Assert.Equal(["blog.ahrefs.com", null, null, null, null], rows[1]);
        Assert.Equal(["ahrefs.com", null, null, null, null], rows[2]);
    }

    [Fact]
    public async Task Reingesting_the_same_bytes_is_a_no_op_and_a_copy_is_recorded_as_skipped()
    {
        using var dir = new TempDir();
        var store = PagesStore.Open(dir.File("store"));
        var first = await IngestAsync(store, TestData.SamplePath("pages_extended-example.json"));
        Assert.Equal(1, first.Ingested);
        var recordsBefore = Directory.GetFiles(Path.Combine(store.Directory, "sources")).Order().Select(File.ReadAllText).ToList();

        var again = await IngestAsync(store, TestData.SamplePath("pages_extended-example.json"));
        Assert.Equal(0, again.Ingested);
        Assert.Equal(1, again.Skipped);
        Assert.Equal(0, again.Rows);
        Assert.Null(again.Outcomes[0].Record);
        var recordsAfter = Directory.GetFiles(Path.Combine(store.Directory, "sources")).Order().Select(File.ReadAllText).ToList();
        Assert.Equal(recordsBefore, recordsAfter);

        var copy = dir.File("copy.json");
        File.Copy(TestData.SamplePath("pages_extended-example.json"), copy);
        var copied = await IngestAsync(store, copy);
        Assert.Equal(1, copied.Skipped);
        Assert.Equal(SourceStatus.Skipped, copied.Outcomes[0].Record!.Status);
        Assert.Contains("same bytes as source 0", copied.Outcomes[0].Message);
        Assert.Equal(2L, Query(store, "SELECT count(*) FROM pages")[0][0]);

        // and the copy itself is now a no-op too
        var copiedAgain = await IngestAsync(store, copy);
        Assert.Null(copiedAgain.Outcomes[0].Record);
        Assert.Equal(2, store.ReadRecords().Count);
    }

    [Fact]
    public async Task Malformed_and_error_responses_are_rejected_whole_while_the_rest_ingests()
    {
        using var dir = new TempDir();
        var inputs = dir.File("in");
        Directory.CreateDirectory(inputs);
        File.Copy(TestData.SamplePath("pages_extended-example.json"), Path.Combine(inputs, "a-good.json"));
        File.Copy(TestData.FixturePath("truncated.json"), Path.Combine(inputs, "b-truncated.json"));
        File.Copy(TestData.FixturePath("error.json"), Path.Combine(inputs, "c-error.json"));
        File.Copy(TestData.FixturePath("bad-value.json"), Path.Combine(inputs, "d-bad-value.json"));
        File.Copy(TestData.SamplePath("pages_extended-empty.json"), Path.Combine(inputs, "e-empty.json"));

        var store = PagesStore.Open(dir.File("store"));
        var summary = await IngestAsync(store, inputs);
        Assert.Equal(2, summary.Ingested);
        Assert.Equal(3, summary.Rejected);
        Assert.Equal(2, summary.Rows);

        var records = store.ReadRecords();
        Assert.Equal(["ok", "rejected", "rejected", "rejected", "ok"], records.Select(r => r.Status));
        Assert.Contains("b-truncated.json: record 1 (line ", records[1].Error);
        Assert.Contains("malformed JSON", records[1].Error);
        Assert.Contains("API answered with an error: Invalid token", records[2].Error);
        Assert.Contains("record 0 (line 4, byte ", records[3].Error);
        Assert.Contains("\"backlinks\" expected a number, got \"lots\"", records[3].Error);
        Assert.All(records.Where(r => r.Status == "rejected"), r => Assert.Empty(r.Parts));
        Assert.All(records.Where(r => r.Status == "rejected"), r => Assert.Equal(0, r.Rows));
        Assert.Equal(new FileInfo(TestData.FixturePath("truncated.json")).Length, records[1].Bytes);

        // No parts of a rejected input, and nothing left in tmp.
        Assert.Equal(["0"], Directory.GetDirectories(Path.Combine(store.Directory, "parts")).Select(Path.GetFileName));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(store.Directory, "tmp")));
        Assert.Equal(2L, Query(store, "SELECT count(*) FROM pages")[0][0]);
        Assert.Equal(3L, Query(store, "SELECT count(*) FROM sources WHERE status = 'rejected'")[0][0]);
    }

    [Fact]
    public async Task A_second_writer_fails_at_once_naming_the_pid_and_readers_still_query()
    {
        using var dir = new TempDir();
        var store = PagesStore.Open(dir.File("store"));
        await IngestAsync(store, TestData.SamplePath("pages_extended-example.json"));
        using (store.OpenWriter())
        {
            var inProcess = Assert.Throws<StoreLockedException>(() => store.OpenWriter());
            Assert.Contains($"store is locked by pid {Environment.ProcessId}", inProcess.Message);

            // Another process: the real CLI, which must fail at once with exit code 1.
            var (exit, _, stderr) = await RunCliProcessAsync("ingest", TestData.SamplePath("pages_extended-500-compact.json"), "--store", store.Directory);
            Assert.Equal(1, exit);
            Assert.Contains($"store is locked by pid {Environment.ProcessId}", stderr);

            // Readers do not wait for the writer.
            Assert.Equal(2L, Query(store, "SELECT count(*) FROM pages")[0][0]);
        }
        using (store.OpenWriter())
        {
            // released on dispose
        }
    }

    [Fact]
    public async Task Debris_of_an_interrupted_writer_is_invisible_and_removed_on_the_next_open()
    {
        using var dir = new TempDir();
        var store = PagesStore.Open(dir.File("store"));
        await IngestAsync(store, TestData.SamplePath("pages_extended-example.json"));
        // Simulate a crash: parts moved into place without a record, a half-written record, work in tmp.
        var orphan = Path.Combine(store.Directory, "parts", "7");
        Directory.CreateDirectory(orphan);
        File.Copy(Path.Combine(store.Directory, "parts", "0", "part-00000.parquet"), Path.Combine(orphan, "part-00000.parquet"));
        File.WriteAllText(Path.Combine(store.Directory, "sources", "7.json.tmp"), "{\"source_id\":");
        Directory.CreateDirectory(Path.Combine(store.Directory, "tmp", "8"));
        File.WriteAllText(Path.Combine(store.Directory, "tmp", "8", "part-00000.parquet.tmp"), "junk");

        Assert.Equal(2L, Query(store, "SELECT count(*) FROM pages")[0][0]);
        using (store.OpenWriter())
        {
        }
        Assert.False(Directory.Exists(orphan));
        Assert.False(File.Exists(Path.Combine(store.Directory, "sources", "7.json.tmp")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(store.Directory, "tmp")));
        Assert.Equal(2L, Query(store, "SELECT count(*) FROM pages")[0][0]);
    }

    [Fact]
    public void An_empty_store_queries_with_the_full_schema()
    {
        using var dir = new TempDir();
        var store = PagesStore.Open(dir.File("never-written"));
        Assert.Equal(0L, Query(store, "SELECT count(*) FROM pages")[0][0]);
        Assert.Equal(26, Query(store, "DESCRIBE pages").Count);
        Assert.Equal(0L, Query(store, "SELECT count(*) FROM sources")[0][0]);
        Assert.False(Directory.Exists(store.Directory));
    }

    [Theory]
    [InlineData("DROP VIEW pages")]
    [InlineData("CREATE TABLE x AS SELECT * FROM pages")]
    [InlineData("COPY (SELECT * FROM pages) TO '/tmp/pages-leak.csv'")]
    [InlineData("ATTACH '/tmp/pages-attack.duckdb' AS a")]
    [InlineData("INSERT INTO sources (source_id) VALUES (1)")]
    [InlineData("SELECT 1; DROP VIEW pages")]
    [InlineData("PRAGMA enable_profiling")]
    [InlineData("SET threads = 1")]
    [InlineData("INSTALL httpfs")]
    public void Sql_that_could_modify_anything_is_refused(string sql)
    {
        using var dir = new TempDir();
        var store = PagesStore.Open(dir.File("store"));
        using var session = store.OpenQuery();
        Assert.Throws<ReadOnlyViolationException>(() => session.ExecuteReadOnly(sql));
        Assert.Equal(0L, Query(store, "SELECT count(*) FROM pages")[0][0]);
    }

    [Fact]
    public async Task Store_totals_equal_duckdb_read_json_on_the_same_generated_file()
    {
        using var dir = new TempDir();
        var file = dir.File("gen.json");
        var generated = await ResponseGenerator.WriteFileAsync(file, new GeneratorOptions { Rows = 20_000, Seed = 5 });
        var store = PagesStore.Open(dir.File("store"));
        var summary = await Ingestor.RunAsync(store, InputSource.Expand([file], () => Stream.Null), new IngestOptions { BatchRows = 4096 });
        Assert.Equal(20_000, summary.Rows);

        var ours = Query(store, "SELECT count(*), sum(backlinks)::BIGINT, sum(refdomains)::BIGINT, count(last_visited) FROM pages")[0];

        // DuckDB reads the raw response itself (the baseline a user would pick); the sentinel is its "never".
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        command.CommandText = $"""
            SELECT count(*), sum(p.backlinks)::BIGINT, sum(p.refdomains)::BIGINT,
                   count(*) FILTER (WHERE p.last_visited IS NOT NULL AND p.last_visited::VARCHAR <> '1970-01-01T00:00:00Z'
                                    AND p.last_visited::TIMESTAMPTZ <> TIMESTAMPTZ '1970-01-01 00:00:00+00')
            FROM (SELECT unnest(pages) AS p FROM read_json('{file}', maximum_object_size = 1000000000,
                  columns = {'{'}pages: 'STRUCT(url VARCHAR, backlinks BIGINT, refdomains BIGINT, last_visited VARCHAR)[]'{'}'}))
            """;
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        var theirs = new object?[] { reader.GetValue(0), reader.GetValue(1), reader.GetValue(2), reader.GetValue(3) };
        Assert.Equal(theirs, ours);
        Assert.Equal(generated.SumBacklinks, ours[1]);
        Assert.Equal(generated.SumRefdomains, ours[2]);
        Assert.Equal(generated.LastVisitedNotNull, ours[3]);
    }

    internal static Task<(int Exit, string Stdout, string Stderr)> RunCliProcessAsync(params string[] args)
        => RunCliProcessWithEnvAsync(new Dictionary<string, string>(), args);

    internal static async Task<(int Exit, string Stdout, string Stderr)> RunCliProcessWithEnvAsync(
        IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pages.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
