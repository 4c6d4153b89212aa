using System.Text;
using System.Text.Json;
using PagesAnalytics.Bench;
using PagesAnalytics.Ingest;
using PagesAnalytics.Tests.Support;

namespace PagesAnalytics.Tests.Bench;

public class BenchDataTests
{
    [Fact]
    public async Task Prepare_splits_the_rows_over_files_with_distinct_seeds_and_reuses_a_matching_directory()
    {
        using var dir = new TempDir();
        var options = new BenchDataOptions { Rows = 1000, Files = 3, Pretty = true };
        var data = await BenchDataSet.PrepareAsync(dir.File("d"), options);

        Assert.False(data.Reused);
        Assert.Equal(new long[] { 334, 333, 333 }, data.RawFiles.Select(f => f.Rows));
        Assert.Equal(data.RawFiles.Select(f => f.Rows), data.NdjsonFiles.Select(f => f.Rows));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(data.NdjsonFiles[i].Rows, File.ReadLines(data.NdjsonFiles[i].Path).Count());
            Assert.Equal(new FileInfo(data.RawFiles[i].Path).Length, data.RawFiles[i].Bytes);
        }
        Assert.NotEqual(File.ReadAllBytes(data.RawFiles[1].Path), File.ReadAllBytes(data.RawFiles[2].Path));
        Assert.EndsWith("\n*\n", File.ReadAllText(Path.Combine(data.Directory, ".gitignore")));

        var again = await BenchDataSet.PrepareAsync(dir.File("d"), options);
        Assert.True(again.Reused);
        Assert.Equal(data.RawFiles, again.RawFiles);
        Assert.Equal(data.NdjsonFiles, again.NdjsonFiles);

        var otherSeed = await BenchDataSet.PrepareAsync(dir.File("d"), options with { Seed = 7 });
        Assert.False(otherSeed.Reused);
        Assert.Equal(3, Directory.GetFiles(otherSeed.RawDirectory).Length);

        File.AppendAllText(otherSeed.NdjsonFiles[0].Path, "\n"); // a file that no longer has its recorded size
        Assert.False((await BenchDataSet.PrepareAsync(dir.File("d"), options with { Seed = 7 })).Reused);
    }

    [Fact]
    public async Task Prepare_refuses_a_directory_that_holds_other_files()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("notes.txt"), "mine");
        var error = await Assert.ThrowsAsync<PagesUsageException>(() => BenchDataSet.PrepareAsync(dir.Path, new BenchDataOptions { Rows = 10 }));
        Assert.Contains("not empty and holds no bench data", error.Message);
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Ndjson_of_a_pretty_response_equals_that_of_the_compact_one_and_holds_every_page()
    {
        var pretty = await Generate(pretty: true);
        var compact = await Generate(pretty: false);
        var fromPretty = await Convert(pretty);
        var fromCompact = await Convert(compact);

        Assert.Equal(fromCompact, fromPretty);
        var lines = Encoding.UTF8.GetString(fromCompact).Split('\n');
        Assert.Equal(300, lines.Length - 1);
        Assert.Equal("", lines[^1]);
        using var response = JsonDocument.Parse(compact);
        int i = 0;
        foreach (var page in response.RootElement.GetProperty("pages").EnumerateArray())
        {
            Assert.Equal(page.GetRawText(), lines[i++]);
        }
    }

    [Fact]
    public async Task Ndjson_conversion_of_a_truncated_response_fails_naming_the_source()
    {
        var compact = await Generate(pretty: false);
        var error = await Assert.ThrowsAsync<PagesException>(() =>
            NdjsonConverter.ConvertAsync(new MemoryStream(compact[..(compact.Length / 2)]), new MemoryStream(), "cut.json"));
        Assert.StartsWith("cut.json: ", error.Message);
    }

    [Fact]
    public async Task Token_scan_counts_the_same_tokens_as_one_reader_over_the_whole_file()
    {
        using var dir = new TempDir();
        // Several MB, so tokens straddle the scan's 1 MB refills.
        string path = dir.File("r.json");
        await ResponseGenerator.WriteFileAsync(path, new GeneratorOptions { Rows = 8000, Pretty = true });
        long expected = CountTokens(File.ReadAllBytes(path));

        Assert.Equal(expected, BenchWorkloads.TokenScan([path]).Rows);
        Assert.Equal(2 * expected, BenchWorkloads.TokenScan([path, path]).Rows);
        Assert.Equal(8000, (await BenchWorkloads.ParseOnlyAsync([path])).Rows);
    }

    [Fact]
    public void DuckDb_sql_reads_a_list_of_files_and_sizes_the_object_limit_to_the_largest()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("a.json"), "{\"pages\":[]}");
        File.WriteAllText(dir.File("it's.json"), "{\"pages\":[],\"stats\":{}}");

        string raw = BenchWorkloads.DuckDbSql([dir.File("a.json"), dir.File("it's.json")], dir.File("o.parquet"), ndjson: false);
        Assert.Contains($"read_json(['{dir.File("a.json")}', '{dir.File("it''s.json")}'], maximum_object_size = 24)", raw);
        Assert.StartsWith("COPY (SELECT unnest(pages, recursive := true) FROM ", raw);
        Assert.EndsWith($"TO '{dir.File("o.parquet")}' (FORMAT parquet)", raw);

        string ndjson = BenchWorkloads.DuckDbSql([dir.File("a.json")], dir.File("o.parquet"), ndjson: true);
        Assert.Contains($"read_json('{dir.File("a.json")}', format = 'newline_delimited')", ndjson);
    }

    [Fact]
    public void Measurement_line_round_trips_and_the_last_one_wins()
    {
        var first = new BenchMeasurement(1000, 0.5, 2048, 123, null, null);
        var second = new BenchMeasurement(2000, 1.25, 4096, 456, 789, "duckdb v1.5.6 | x");
        string stderr = "store ...: 1 ingested\n" + first.Format() + "\nnoise\n" + second.Format() + "\n";

        Assert.Equal(second, BenchMeasurement.FindIn(stderr));
        Assert.True(BenchMeasurement.TryParse(first.Format(), out var parsed));
        Assert.Equal(first, parsed);
        Assert.Null(BenchMeasurement.FindIn("BENCH rows=1 work_s=x\n"));
        Assert.Null(BenchMeasurement.FindIn(""));
    }

    [Fact]
    public void Peak_rss_reads_VmHWM_and_is_positive()
    {
        Assert.True(ProcessMemory.TryParseStatusLine("VmHWM:\t  181234 kB", "VmHWM:", out long kb));
        Assert.Equal(181234, kb);
        Assert.False(ProcessMemory.TryParseStatusLine("VmRSS:\t  1 kB", "VmHWM:", out _));
        Assert.True(ProcessMemory.PeakResidentKb() > 1024);
    }

    private static long CountTokens(byte[] json)
    {
        var reader = new Utf8JsonReader(json);
        long tokens = 0;
        while (reader.Read())
        {
            tokens++;
        }
        return tokens;
    }

    private static async Task<byte[]> Generate(bool pretty)
    {
        using var buffer = new MemoryStream();
        await ResponseGenerator.WriteAsync(buffer, new GeneratorOptions { Rows = 300, Pretty = pretty });
        return buffer.ToArray();
    }

    private static async Task<byte[]> Convert(byte[] response)
    {
        using var output = new MemoryStream();
        long rows = await NdjsonConverter.ConvertAsync(new MemoryStream(response), output, "r.json");
        Assert.Equal(300, rows);
        return output.ToArray();
    }
}
