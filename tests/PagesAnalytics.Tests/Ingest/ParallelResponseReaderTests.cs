using System.Text;
using PagesAnalytics.Ingest;
using PagesAnalytics.Schema;
using PagesAnalytics.Store;
using PagesAnalytics.Tests.Support;
using Xunit;

namespace PagesAnalytics.Tests.Ingest;

/// <summary>
/// The parallel parse of one file cuts the "pages" array at guessed record boundaries. Whatever the cut points,
/// it must give the sequential reader's rows, values and row ordinals, or hand the file back to the sequential
/// reader (<see cref="ParallelFallbackException"/>) — never anything else.
/// </summary>
public sealed class ParallelResponseReaderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pages-parallel-" + Guid.NewGuid().ToString("N"));

    public ParallelResponseReaderTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Records whose strings hold what a boundary guess looks for: <c>},{</c>, escaped quotes, braces.</summary>
    private static string TrickyResponse(bool pretty)
    {
        string[] titles =
        [
            "plain",
            "},{",
            "}, {",
            "},\\n{",
            "\\\"},{\\\"url\\\":\\\"http://evil/\\\"}",
            "a\\\"b},{\\\"c",
            "{{{}}}",
            "}",
            "{",
            ",",
            "\\\\\\\"},{",
            "}\\n,\\n{",
            "caf\u00e9 },{ \u65e5\u672c",
            "\\u007d,\\u007b",
            "",
        ];
        var text = new StringBuilder();
        string nl = pretty ? "\n" : "";
        string ind = pretty ? "    " : "";
        text.Append("{\"note\":{\"x\":[\"},{\",{\"y\":\"},{\"}]},").Append(nl).Append("\"pages\":[").Append(nl);
        int n = 0;
        for (int round = 0; round < 6; round++)
        {
            foreach (var title in titles)
            {
                if (n > 0)
                {
                    text.Append(pretty ? "," + nl : ",");
                }
                text.Append(ind).Append('{').Append(nl);
                text.Append(ind).Append(ind).Append("\"url\":\"http://example.com/p").Append(n).Append("?q=},{\"").Append(',').Append(nl);
                text.Append(ind).Append(ind).Append("\"title\":\"").Append(title).Append('"').Append(',').Append(nl);
                if (n % 3 == 0)
                {
                    text.Append(ind).Append(ind).Append("\"extra\":{\"deep\":[{\"a\":\"},{\"},{\"b\":[1,{}]}]},").Append(nl);
                }
                text.Append(ind).Append(ind).Append("\"backlinks\":").Append(n * 7).Append(',').Append(nl);
                text.Append(ind).Append(ind).Append("\"redirect_url\":").Append(n % 4 == 0 ? "null" : "\"http://r/},{\"").Append(',').Append(nl);
                text.Append(ind).Append(ind).Append("\"first_seen\":\"").Append(n % 5 == 0 ? "1970-01-01T00:00:00Z" : "2013-11-20T09:46:29Z").Append('"').Append(nl);
                text.Append(ind).Append('}');
                n++;
            }
        }
        text.Append(nl).Append("],").Append(nl).Append("\"stats\":{\"pages\":").Append(n).Append("}}").Append(nl);
        return text.ToString();
    }

    private string WriteFile(string name, string json)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, json, new UTF8Encoding(false));
        return path;
    }

    private static async Task<(List<object?[]> Rows, ResponseReader Reader)> ReadSequentiallyAsync(string path)
    {
        await using var stream = File.OpenRead(path);
        var (rows, _, reader) = await TestData.ReadAllAsync(stream, new ResponseReaderOptions { BatchRows = 5, SourceId = 3 });
        return (rows, reader);
    }

    private static async Task<(List<object?[]> Rows, ParallelResponseReader Reader)> ReadInParallelAsync(string path,
        long segmentBytes, int workers = 2, int batchRows = 5)
    {
        var reader = new ParallelResponseReader(path, new ResponseReaderOptions { BatchRows = batchRows, SourceId = 3 },
            new ParallelReadOptions { Workers = workers, SegmentBytes = segmentBytes, OverrunSegments = 1_000_000 });
        var rows = new List<object?[]>();
        await foreach (var batch in reader.ReadBatchesAsync())
        {
            using (batch)
            {
                rows.AddRange(TestData.ToRows(batch));
            }
        }
        return (rows, reader);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_cut_point_gives_the_sequential_rows_and_order(bool pretty)
    {
        string path = WriteFile(pretty ? "pretty.json" : "compact.json", TrickyResponse(pretty));
        var (expected, sequential) = await ReadSequentiallyAsync(path);
        Assert.Equal(90, expected.Count);
        string want = TestData.Dump(expected);
        long length = new FileInfo(path).Length;
        int reparsed = 0;
        // Segment lengths 1..97 put a cut point at every byte offset of the array, and inside every kind of string.
        var lengths = Enumerable.Range(1, 97).Select(i => (long)i).Concat([128, 200, 333, 1000, 4096, length]);
        foreach (long segment in lengths)
        {
            var (rows, reader) = await ReadInParallelAsync(path, segment);
            string got = TestData.Dump(rows);
            if (want != got)
            {
                var w = want.Split('\n');
                var g = got.Split('\n');
                int i = 0;
                while (i < Math.Min(w.Length, g.Length) && w[i] == g[i]) { i++; }
                Assert.Fail($"segment length {segment}: rows differ at line {i} of {w.Length}/{g.Length}: want {(i < w.Length ? w[i] : "-")} got {(i < g.Length ? g[i] : "-")}");
            }
            Assert.Equal(sequential.StatsPages, reader.StatsPages);
            Assert.Equal(sequential.UnknownKeys, reader.UnknownKeys);
            Assert.Equal(sequential.Responses, reader.Responses);
            Assert.Equal(sequential.Rows, reader.Rows);
            reparsed += reader.Reparsed;
        }
        // Wrong guesses (cut points inside strings holding "},{") happened and were corrected.
        Assert.True(reparsed > 0);
    }

    [Fact]
    public async Task Row_ordinals_run_on_across_segments_and_following_responses()
    {
        // Two responses back to back: the second is read by the sequential reader after the parallel array.
        string first = TrickyResponse(pretty: false).TrimEnd();
        string json = first + "\n" + """{"pages":[{"url":"http://second/1"},{"url":"http://second/2","title":"},{"}],"stats":{"pages":500}}""";
        string path = WriteFile("two.json", json);
        var (expected, sequential) = await ReadSequentiallyAsync(path);
        var (rows, reader) = await ReadInParallelAsync(path, 64);
        Assert.Equal(TestData.Dump(expected), TestData.Dump(rows));
        Assert.Equal(92, rows.Count);
        Assert.Equal(Enumerable.Range(0, 92).Select(i => (long)i), rows.Select(r => (long)r[PagesSchema.RowOrdinalIndex]!));
        Assert.Equal(2, reader.Responses);
        Assert.Equal(500, reader.StatsPages);
        Assert.Equal(sequential.UnknownKeys, reader.UnknownKeys);
    }

    [Fact]
    public async Task A_generated_response_splits_into_many_segments_with_identical_rows()
    {
        string path = Path.Combine(_dir, "generated.json");
        await using (var output = File.Create(path))
        {
            await ResponseGenerator.WriteAsync(output, new GeneratorOptions { Rows = 20_000, Seed = 7 });
        }
        var (expected, _) = await ReadSequentiallyAsync(path);
        var (rows, reader) = await ReadInParallelAsync(path, 64 * 1024, workers: 2, batchRows: 4096);
        Assert.Equal(20_000, rows.Count);
        Assert.Equal(TestData.Dump(expected), TestData.Dump(rows));
        Assert.True(reader.Segments > 50, $"only {reader.Segments} segments were taken as guessed");
    }

    public static TheoryData<string> BrokenArrays => new()
    {
        // Truncated inside a late record.
        TrickyResponse(false)[..^400],
        // A bad value late in the array.
        TrickyResponse(false).Replace("\"backlinks\":560", "\"backlinks\":\"many\"", StringComparison.Ordinal),
        // A missing comma between records.
        TrickyResponse(false).Replace("},{\"url\":\"http://example.com/p50?", "}{\"url\":\"http://example.com/p50?", StringComparison.Ordinal),
        // A trailing comma.
        TrickyResponse(false).Replace("\n],", ",\n],", StringComparison.Ordinal).Replace("}],\"stats\"", "},],\"stats\"", StringComparison.Ordinal),
        // An error key after the array.
        TrickyResponse(false).Replace("\"stats\":", "\"error\":\"quota\",\"stats\":", StringComparison.Ordinal),
        // A record without url.
        TrickyResponse(false).Replace("\"url\":\"http://example.com/p77?q=},{\",", "", StringComparison.Ordinal),
        // Nesting one level deeper than the sequential reader allows.
        TrickyResponse(false).Replace("\"backlinks\":560,", "\"deep\":" + new string('[', 62) + new string(']', 62) + ",\"backlinks\":560,", StringComparison.Ordinal),
    };

    [Theory]
    [MemberData(nameof(BrokenArrays))]
    public async Task A_broken_file_is_handed_back_to_the_sequential_reader(string json)
    {
        string path = WriteFile("broken.json", json);
        await Assert.ThrowsAnyAsync<PagesException>(() => ReadSequentiallyAsync(path));
        foreach (long segment in new long[] { 7, 50, 300, 100_000 })
        {
            await Assert.ThrowsAsync<ParallelFallbackException>(() => ReadInParallelAsync(path, segment));
        }
    }

    [Fact]
    public async Task A_record_longer_than_the_overrun_limit_is_handed_back_not_cut()
    {
        string big = new('x', 5_000);
        string json = "{\"pages\":[{\"url\":\"a\"},{\"url\":\"b\",\"title\":\"" + big + "\"},{\"url\":\"c\"}]}";
        string path = WriteFile("long-record.json", json);
        // Small read buffers, so the segment notices how far past its end it has read.
        var reader = new ParallelResponseReader(path, new ResponseReaderOptions { BatchRows = 5, BufferBytes = 64 },
            new ParallelReadOptions { Workers = 2, SegmentBytes = 100, OverrunSegments = 4 });
        await Assert.ThrowsAsync<ParallelFallbackException>(async () =>
        {
            await foreach (var batch in reader.ReadBatchesAsync())
            {
                batch.Dispose();
            }
        });
        // With room for it, the same file reads as the sequential reader reads it.
        var (expected, _) = await ReadSequentiallyAsync(path);
        var (rows, _) = await ReadInParallelAsync(path, 100);
        Assert.Equal(TestData.Dump(expected), TestData.Dump(rows));
    }

    [Fact]
    public async Task Nesting_the_sequential_reader_accepts_is_accepted()
    {
        // 61 levels inside the record: depth 64 in the whole response, the most Utf8JsonReader allows by default.
        string json = TrickyResponse(false).Replace("\"backlinks\":560,", "\"deep\":" + new string('[', 61) + new string(']', 61) + ",\"backlinks\":560,", StringComparison.Ordinal);
        string path = WriteFile("deep.json", json);
        var (expected, _) = await ReadSequentiallyAsync(path);
        var (rows, _) = await ReadInParallelAsync(path, 100);
        Assert.Equal(TestData.Dump(expected), TestData.Dump(rows));
    }

    [Theory]
    [InlineData("""{"error":"quota","pages":[{"url":"a"}]}""")]
    [InlineData("""[{"url":"a"}]""")]
    [InlineData("""{"stats":{"pages":1}}""")]
    public async Task A_file_without_a_leading_pages_array_is_not_read_in_parallel(string json)
    {
        string path = WriteFile("other.json", json);
        await Assert.ThrowsAsync<ParallelFallbackException>(() => ReadInParallelAsync(path, 4));
    }

    [Fact]
    public async Task Keys_before_the_array_a_bom_and_an_empty_array_are_handled()
    {
        string path = Path.Combine(_dir, "bom.json");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. TestData.Utf8("""{"stats":{"pages":0},"meta":[1,{"a":"},{"}],"pages":[ ]}""")]);
        var (rows, reader) = await ReadInParallelAsync(path, 3);
        Assert.Empty(rows);
        Assert.Equal(0, reader.StatsPages);
        Assert.Equal(1, reader.Responses);
    }

    [Theory]
    [InlineData("truncated.json", false)]
    [InlineData("truncated.json", true)]
    [InlineData("bad-value.json", false)]
    [InlineData("error.json", false)]
    [InlineData("compact", false)]
    [InlineData("compact", true)]
    public async Task A_store_ingest_in_parallel_records_what_the_sequential_ingest_records(string name, bool salvage)
    {
        string source = name == "compact" ? WriteFile("compact.json", TrickyResponse(false)) : TestData.FixturePath(name);
        string input = Path.Combine(_dir, "in-" + Path.GetFileName(source));
        File.Copy(source, input, overwrite: true);
        var results = new List<string>();
        foreach (int threads in new[] { 1, 2 })
        {
            string storePath = Path.Combine(_dir, $"store-{threads}-{salvage}");
            var store = PagesStore.Open(storePath);
            var options = new IngestOptions
            {
                Threads = threads,
                Salvage = salvage,
                BatchRows = 4,
                Parallel = new ParallelReadOptions { SegmentBytes = 40 },
                ParallelMinFileBytes = 0,
            };
            var summary = await Ingestor.RunAsync(store, [InputSource.FromFile(input, "in.json")], options);
            var outcome = Assert.Single(summary.Outcomes);
            var record = outcome.Record!;
            string rows;
            using (var session = store.OpenQuery())
            using (var reader = session.ExecuteReadOnly(
                "SELECT string_agg(url || ':' || row_ordinal || ':' || coalesce(title, 'NULL') || ':' || coalesce(backlinks, -1), chr(10) ORDER BY row_ordinal) FROM pages"))
            {
                reader.Read();
                rows = reader.IsDBNull(0) ? "" : reader.GetString(0);
            }
            results.Add(string.Join("\n", outcome.Status, record.Rows, record.Error, record.SalvagedToByte, record.Sha256,
                record.Bytes, record.Responses, record.StatsPages, record.UnknownKeys, rows));
        }
        Assert.Equal(results[0], results[1]);
    }

    [Fact]
    public async Task A_file_that_changes_while_it_is_read_in_parallel_is_read_again_sequentially()
    {
        string input = WriteFile("growing.json", TrickyResponse(false));
        var store = PagesStore.Open(Path.Combine(_dir, "store-growing"));
        var options = new IngestOptions
        {
            Threads = 2,
            BatchRows = 4,
            Parallel = new ParallelReadOptions { SegmentBytes = 40 },
            ParallelMinFileBytes = 0,
        };
        // A download still being written: more bytes arrive once the parallel read has begun.
        bool appended = false;
        var progress = new SyncProgress(p =>
        {
            if (!appended && p.CurrentBytes > 0)
            {
                appended = true;
                File.AppendAllText(input, "\n{\"pages\":[{\"url\":\"http://late/\"}]}\n");
            }
        });
        var summary = await Ingestor.RunAsync(store, [InputSource.FromFile(input, "growing.json")], options, progress);
        Assert.True(appended);
        var record = Assert.Single(summary.Outcomes).Record!;
        byte[] final = File.ReadAllBytes(input);
        // What is recorded is what was parsed: the hash, size and rows of the file as it ended up.
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(final)), record.Sha256);
        Assert.Equal(final.Length, record.Bytes);
        Assert.Equal(2, record.Responses);
        var (expected, _) = await ReadSequentiallyAsync(input);
        Assert.Equal(expected.Count, record.Rows);
        Assert.Equal("http://late/", expected[^1][0]);
    }

    private sealed class SyncProgress(Action<IngestProgress> report) : IProgress<IngestProgress>
    {
        public void Report(IngestProgress value) => report(value);
    }
}
