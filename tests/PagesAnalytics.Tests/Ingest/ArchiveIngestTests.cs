using System.IO.Compression;
using System.Text;
using PagesAnalytics.Cli;
using PagesAnalytics.Ingest;
using PagesAnalytics.Store;
using PagesAnalytics.Tests.Support;

namespace PagesAnalytics.Tests.Ingest;

/// <summary>A messy archive, made by the test: every input case of issue 3 with its exact expected outcome.</summary>
public class ArchiveIngestTests
{
    private static readonly byte[] Example = File.ReadAllBytes(TestData.SamplePath("pages_extended-example.json"));

    private sealed record Expected(string Status, long Rows, string? ErrorFragment = null, int Responses = 1, long? StatsPages = null,
        string? Snapshot = null, string? SnapshotFrom = null, string Compression = "none");

    private static byte[] Gzip(byte[] data) => Compress(data, s => new GZipStream(s, CompressionLevel.Fastest, true));

    private static byte[] Brotli(byte[] data) => Compress(data, s => new BrotliStream(s, CompressionLevel.Fastest, true));

    private static byte[] Zstd(byte[] data) => Compress(data, s => new ZstdSharp.CompressionStream(s, 3, leaveOpen: true));

    private static byte[] Compress(byte[] data, Func<Stream, Stream> wrap)
    {
        var output = new MemoryStream();
        using (var compressor = wrap(output))
        {
            compressor.Write(data);
        }
        return output.ToArray();
    }

    private static byte[] Generated(int rows, int seed)
    {
        var output = new MemoryStream();
        ResponseGenerator.WriteAsync(output, new GeneratorOptions { Rows = rows, Seed = seed }).GetAwaiter().GetResult();
        return output.ToArray();
    }

    private static string Page(string url, int backlinks)
        => "{\"url\":\"" + url + "\",\"http_code\":200,\"backlinks\":" + backlinks + ",\"last_visited\":\"2020-01-01T00:00:00Z\"}";

    private static string Resp(int statsPages, params string[] pages)
        => "{\"pages\":[" + string.Join(",", pages) + "],\"stats\":{\"pages\":" + statsPages + "}}";

    /// <summary>Writes the archive; returns the expected outcome per file name.</summary>
    private static Dictionary<string, Expected> WriteArchive(string root)
    {
        void Put(string relative, byte[] bytes, DateTime? mtime = null)
        {
            var path = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
            File.SetLastWriteTimeUtc(path, mtime ?? new DateTime(2022, 2, 2, 12, 0, 0, DateTimeKind.Utc));
        }

        var compact = File.ReadAllBytes(TestData.SamplePath("pages_extended-500-compact.json"));
        var pretty = File.ReadAllBytes(TestData.SamplePath("pages_extended-300-pretty.json"));
        Put("2024-05-01/a.json", Example);
        Put("b-20240602.json.gz", Gzip(compact));
        Put("c.json.zst", Zstd(pretty), new DateTime(2023, 3, 4, 23, 30, 0, DateTimeKind.Utc));
        Put("d.json.br", Brotli(Generated(40, 9)));
        Put("e-bom.json", [0xEF, 0xBB, 0xBF, .. Example]);
        Put("f-paged.json", Encoding.UTF8.GetBytes(
            Resp(10, Page("https://p.com/1", 1), Page("https://p.com/2", 2), Page("https://p.com/3", 3))
            + "{\"stats\":{\"pages\":10},\"pages\":[" + Page("https://p.com/4", 4) + "," + Page("https://p.com/5", 5) + "]}"));
        Put("g-lines.jsonl", Encoding.UTF8.GetBytes(
            Resp(4, Page("https://l.com/1", 1)) + "\n" + Resp(4, Page("https://l.com/2", 1), Page("https://l.com/3", 1)) + "\n" + Resp(4) + "\n"));
        // A plain `pages` response: no backlink columns at all.
        Put("h-pages.json", Encoding.UTF8.GetBytes("""
            {"pages":[{"url":"https://n.com/","ahrefs_rank":12,"first_seen":"2019-01-01T00:00:00Z","last_visited":"2020-01-01T00:00:00Z",
            "http_code":200,"size":100,"links_internal":1,"links_external":2,"encoding":"utf8","title":"N","redirect_url":"","content_encoding":""}],
            "stats":{"pages":1}}
            """));
        Put("i-strings.json", Encoding.UTF8.GetBytes("""{"pages":[{"url":"https://s.com/","http_code":"404","backlinks":"7","refdomains":"3"}]}"""));
        Put("j-copy.json", Example);
        Put("k-truncated.json", Example[..200]);
        Put("l-error.json.gz", Gzip(Encoding.UTF8.GetBytes("""{"error":"API units limit exceeded"}""")));
        Put("m-malformed.json", Encoding.UTF8.GetBytes("{\"pages\":[\n{\"url\":\"https://m.com/\",\"size\":\"big\"}]}"));
        Put("n-corrupt.json.gz", [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xFF, 0xFF, 0x12, 0x34, 0x56, 0x78, 0x9A]);
        Put("o-empty.json", Encoding.UTF8.GetBytes("""{"pages":[],"stats":{"pages":0}}"""));
        Put("notes.txt", Encoding.UTF8.GetBytes("not a response; a directory scan must not take it"));

        return new Dictionary<string, Expected>
        {
            ["a.json"] = new("ok", 2, StatsPages: 393209, Snapshot: "2024-05-01", SnapshotFrom: "path"),
            ["b-20240602.json.gz"] = new("ok", 500, StatsPages: 1148, Snapshot: "2024-06-02", SnapshotFrom: "path", Compression: "gzip"),
            ["c.json.zst"] = new("ok", 300, StatsPages: 1819, Snapshot: "2023-03-04", SnapshotFrom: "mtime", Compression: "zstd"),
            ["d.json.br"] = new("ok", 40, Compression: "brotli"),
            ["e-bom.json"] = new("ok", 2, StatsPages: 393209),
            ["f-paged.json"] = new("ok", 5, Responses: 2, StatsPages: 10),
            ["g-lines.jsonl"] = new("ok", 3, Responses: 3, StatsPages: 4),
            ["h-pages.json"] = new("ok", 1, StatsPages: 1),
            ["i-strings.json"] = new("ok", 1),
            ["j-copy.json"] = new("skipped", 0, "same bytes as source 0", Responses: 0),
            ["k-truncated.json"] = new("rejected", 0, "k-truncated.json: record 0 (line ", Responses: 0),
            ["l-error.json.gz"] = new("rejected", 0, "the API answered with an error: API units limit exceeded", Responses: 0, Compression: "gzip"),
            ["m-malformed.json"] = new("rejected", 0, "record 0 (line 2, byte 42): \"size\" expected a number, got \"big\"", Responses: 0),
            ["n-corrupt.json.gz"] = new("rejected", 0, "the compressed input is corrupt", Responses: 0, Compression: "gzip"),
            ["o-empty.json"] = new("ok", 0, StatsPages: 0),
        };
    }

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
    public async Task Every_case_of_the_archive_ends_with_its_exact_status_rows_and_reason()
    {
        using var dir = new TempDir();
        var archive = dir.File("archive");
        var expected = WriteArchive(archive);
        var store = PagesStore.Open(dir.File("store"));

        var summary = await Ingestor.RunAsync(store, InputSource.Expand([archive], () => Stream.Null));

        Assert.Equal(expected.Count, summary.Outcomes.Count); // notes.txt is not an input
        foreach (var outcome in summary.Outcomes)
        {
            var name = Path.GetFileName(outcome.Input.Path);
            var want = expected[name];
            Assert.True(want.Status == outcome.Status, $"{name}: expected {want.Status}, got {outcome.Status} ({outcome.Message})");
            Assert.True(want.Rows == outcome.Rows, $"{name}: expected {want.Rows} rows, got {outcome.Rows}");
            if (want.ErrorFragment is { } fragment)
            {
                Assert.Contains(fragment, outcome.Message);
            }
            else
            {
                Assert.Null(outcome.Message);
            }
            var record = outcome.Record!;
            Assert.Equal(want.Responses, record.Responses);
            Assert.Equal(want.Compression, record.Status == "skipped" ? "none" : record.Compression);
            if (want.StatsPages is { } stats)
            {
                Assert.Equal(stats, record.StatsPages);
            }
            if (want.Snapshot is { } snapshot)
            {
                Assert.Equal(snapshot, record.Snapshot);
                Assert.Equal(want.SnapshotFrom, record.SnapshotFrom);
            }
        }
        Assert.Equal(10, summary.Ingested);
        Assert.Equal(1, summary.Skipped);
        Assert.Equal(4, summary.Rejected);
        Assert.Equal(854, summary.Rows);

        // The store shows exactly the accepted rows, with missing columns NULL and string numbers parsed.
        Assert.Equal(854L, Query(store, "SELECT count(*) FROM pages")[0][0]);
        Assert.Equal([null, 12, 100L], Query(store, "SELECT backlinks, ahrefs_rank, size FROM pages WHERE url = 'https://n.com/'")[0]);
        Assert.Equal([404, 7L, 3L], Query(store, "SELECT http_code, backlinks, refdomains FROM pages WHERE url = 'https://s.com/'")[0]);
        // row_ordinal continues across the responses of one file: the API's order.
        Assert.Equal([0L, 1L, 2L, 3L, 4L], Query(store, "SELECT row_ordinal FROM pages WHERE url LIKE 'https://p.com/%' ORDER BY url").Select(r => (long)r[0]!));
        Assert.Equal([0.5], Query(store, "SELECT coverage FROM sources WHERE path LIKE '%f-paged.json'")[0]);
        Assert.Equal(4L, Query(store, "SELECT count(*) FROM sources WHERE status = 'rejected' AND error IS NOT NULL AND rows = 0 AND parts = 0")[0][0]);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(store.Directory, "tmp")));
    }

    [Fact]
    public async Task Cli_reports_rejections_exits_3_and_lists_them_with_sources_rejected()
    {
        using var dir = new TempDir();
        var archive = dir.File("archive");
        WriteArchive(archive);
        var (exit, _, stderr) = await Cli(null, "ingest", archive, "--store", dir.File("s"), "--target", "ahrefs.com", "--mode", "domain");
        Assert.Equal(ExitCodes.SomeRejected, exit);
        Assert.Equal(4, stderr.Split('\n').Count(l => l.StartsWith("rejected: ", StringComparison.Ordinal)));
        Assert.True(stderr.Contains("10 ingested, 1 skipped, 4 rejected; 854 rows", StringComparison.Ordinal), stderr);

        var (_, csv, _) = await Cli(null, "sources", "--rejected", "--format", "csv", "--store", dir.File("s"));
        var lines = csv.TrimEnd('\n').Split('\n');
        Assert.Equal(5, lines.Length);
        Assert.Contains("k-truncated.json", csv);
        Assert.Contains("API units limit exceeded", csv);

        var (_, all, _) = await Cli(null, "sql", "SELECT DISTINCT target, mode FROM sources WHERE status <> 'skipped'", "--format", "csv", "--store", dir.File("s"));
        Assert.Equal("target,mode\nahrefs.com,domain\n", all);
    }

    [Fact]
    public async Task Globs_stdin_and_the_snapshot_option_select_inputs_and_dates()
    {
        using var dir = new TempDir();
        var archive = dir.File("archive");
        WriteArchive(archive);
        var store = dir.File("s");

        var (exit, _, stderr) = await Cli(null, "ingest", Path.Combine(archive, "**", "*.json.gz"), "--store", store, "--snapshot", "2021-12-31");
        Assert.Equal(ExitCodes.SomeRejected, exit); // b ok, l and n rejected
        Assert.Contains("1 ingested, 0 skipped, 2 rejected; 500 rows", stderr);
        var (_, snapshots, _) = await Cli(null, "sql", "SELECT DISTINCT snapshot, snapshot_from FROM sources", "--format", "csv", "--store", store);
        Assert.Equal("snapshot,snapshot_from\n2021-12-31,option\n", snapshots);

        var nothing = await Cli(null, "ingest", Path.Combine(archive, "*.nope"), "--store", store);
        Assert.Equal(ExitCodes.Usage, nothing.Exit);
        Assert.Contains("no files match", nothing.Stderr);

        var piped = await Cli(Gzip(Generated(25, 4)), "ingest", "-", "--store", store);
        Assert.Equal(0, piped.Exit);
        var (_, stdinRecord, _) = await Cli(null, "sql", "SELECT compression, rows, snapshot_from FROM sources WHERE path = '-'", "--format", "csv", "--store", store);
        Assert.Equal("compression,rows,snapshot_from\ngzip,25,ingest-time\n", stdinRecord);
    }

    [Fact]
    public async Task Strict_stops_at_the_first_rejection_leaving_later_inputs_alone()
    {
        using var dir = new TempDir();
        var inputs = dir.File("in");
        Directory.CreateDirectory(inputs);
        File.WriteAllBytes(Path.Combine(inputs, "1.json"), Example);
        File.WriteAllBytes(Path.Combine(inputs, "2.json"), Example[..150]);
        File.WriteAllBytes(Path.Combine(inputs, "3.json"), Generated(10, 1));
        var (exit, _, stderr) = await Cli(null, "ingest", inputs, "--store", dir.File("s"), "--strict");
        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Contains("stopped (--strict): ", stderr);
        Assert.Contains("2.json", stderr);
        var records = PagesStore.Open(dir.File("s")).ReadRecords();
        var only = Assert.Single(records);
        Assert.EndsWith("1.json", only.Path);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(dir.File("s"), "tmp")));
    }

    [Fact]
    public async Task Salvage_keeps_the_complete_records_before_the_break_point_as_partial()
    {
        using var dir = new TempDir();
        var file = dir.File("cut.json.gz");
        var full = Generated(300, 2);
        int cut = full.Length * 2 / 3;
        File.WriteAllBytes(file, Gzip(full[..cut]));
        var expectedRows = CompleteRecordsBefore(full, cut);

        var (exit, _, stderr) = await Cli(null, "ingest", file, "--store", dir.File("s"), "--salvage", "--batch-rows", "64");
        Assert.Equal(0, exit);
        Assert.Contains($"partial: kept {expectedRows:N0} rows before the break point", stderr);
        var record = Assert.Single(PagesStore.Open(dir.File("s")).ReadRecords());
        Assert.Equal("partial", record.Status);
        Assert.Equal(expectedRows, record.Rows);
        Assert.Equal(cut, record.SalvagedToByte);
        Assert.Contains("malformed JSON", record.Error);
        Assert.Equal((long)expectedRows, Query(PagesStore.Open(dir.File("s")), "SELECT count(*) FROM pages")[0][0]);
        Assert.Equal(expectedRows - 1L, Query(PagesStore.Open(dir.File("s")), "SELECT max(row_ordinal) FROM pages")[0][0]);

        // Without --salvage the same file is rejected whole.
        var (rejectExit, _, _) = await Cli(null, "ingest", file, "--store", dir.File("s2"));
        Assert.Equal(ExitCodes.SomeRejected, rejectExit);
    }

    [Fact]
    public async Task Pages_latest_keeps_one_row_per_url_from_its_newest_snapshot()
    {
        using var dir = new TempDir();
        string Response(int backlinks) => Resp(2, Page("https://x.com/", backlinks), Page("https://only-old.com/", backlinks));
        File.WriteAllText(dir.File("old-2023-01-01.json"), Response(1));
        File.WriteAllText(dir.File("new-2024-01-01.json"), Response(2).Replace("only-old", "only-new", StringComparison.Ordinal));
        File.WriteAllText(dir.File("same-day-2024-01-01.json"), Resp(1, Page("https://x.com/", 3)));
        var store = dir.File("s");
        await Cli(null, "ingest", dir.File("old-2023-01-01.json"), dir.File("new-2024-01-01.json"), dir.File("same-day-2024-01-01.json"), "--store", store);
        var (_, csv, _) = await Cli(null, "sql", "SELECT url, backlinks FROM pages_latest ORDER BY url", "--format", "csv", "--store", store);
        // x.com: both 2024 sources tie on the snapshot, the later ingested one wins.
        Assert.Equal("url,backlinks\nhttps://only-new.com/,2\nhttps://only-old.com/,1\nhttps://x.com/,3\n", csv);
    }

    private static int CompleteRecordsBefore(byte[] response, int cut)
    {
        var reader = new System.Text.Json.Utf8JsonReader(response.AsSpan(0, cut), isFinalBlock: false, default);
        int complete = 0;
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == System.Text.Json.JsonTokenType.EndObject && reader.CurrentDepth == 2)
                {
                    complete++;
                }
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return complete;
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> Cli(byte[]? stdin, params string[] args)
    {
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int exit = await PagesCli.RunAsync(args, new CliContext(stdout, stderr, () => new MemoryStream(stdin ?? [])));
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()), stderr.ToString());
    }
}
