using System.Text;
using Apache.Arrow;
using PagesAnalytics.Ingest;
using PagesAnalytics.Schema;
using PagesAnalytics.Tests.Support;
using Xunit;

namespace PagesAnalytics.Tests.Ingest;

/// <summary>
/// <see cref="SegmentScanner"/> reads records without a token reader. For what it accepts it must give exactly the
/// rows of <see cref="ResponseReader"/>, wherever its data is cut; everything else it must refuse (the segment is
/// then read by <see cref="ResponseReader"/>), never read differently.
/// </summary>
public sealed class SegmentScannerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pages-scanner-" + Guid.NewGuid().ToString("N"));

    public SegmentScannerTests() => Directory.CreateDirectory(_dir);

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

    private static string AllNull()
        => "{" + string.Join(",", PagesSchema.Columns.Take(PagesSchema.ApiColumnCount).Select(c => $"\"{c.Name}\":null"))
            .Replace("\"url\":null", "\"url\":\"http://null/\"", StringComparison.Ordinal) + "}";

    /// <summary>Records the scanner must read itself: every value shape it handles, in awkward spellings.</summary>
    internal static readonly string[] Supported =
    [
        "{\"url\":\"http://a/\",\"title\":\"plain\"}",
        "{\"url\":\"esc\",\"title\":\"q\\\"b\\\\s\\/f\\bf\\ff\\nn\\rr\\tt\"}",
        "{\"url\":\"uni\",\"title\":\"\\u00e9\\u65E5\\ud83d\\ude00\\u0000\\u007d,\\u007b x\\uDBFF\\uDFFF\"}",
        "{\"url\":\"raw\",\"title\":\"Math \U0001D538\U0001D553\U0001D554 and music \U0001D11E, caf\u00e9 },{ \u65e5\u672c\"}",
        AllNull(),
        "{\"url\":\"num\",\"ahrefs_rank\":-0,\"http_code\":2147483647,\"links_internal\":-2147483648,\"links_external\":0,"
            + "\"size\":999999999999999999,\"backlinks\":-999999999999999999,\"dofollow\":0,\"nofollow\":10,\"redirects\":7}",
        "{\"url\":\"ts\",\"first_seen\":\"1970-01-01T00:00:00Z\",\"last_visited\":\"2024-02-29T23:59:59Z\"}",
        "{\"url\":\"a\",\"url\":\"dup\",\"title\":\"x\",\"title\":null,\"http_code\":1,\"http_code\":2}",
        "{ \r\n\t\"refips\" \t: 5 ,\n \"title\"\r:\n\"reversed\" , \"url\" : \"ws\" \n}",
        "{\"url\":\"long\",\"title\":\"" + new string('x', 3000) + "\\n" + new string('y', 2000) + "\"}",
        "{\"url\":\"http://e/?q=},{\",\"title\":\"\",\"redirect_url\":\"\",\"encoding\":\"utf8\",\"content_encoding\":\"\"}",
        "{\"refips\":1,\"refclass_c\":2,\"refdomains\":3,\"redirects\":4,\"nofollow\":5,\"dofollow\":6,\"backlinks\":7,"
            + "\"content_encoding\":\"br\",\"redirect_url\":\"r\",\"title\":\"t\",\"encoding\":\"e\",\"links_external\":8,"
            + "\"links_internal\":9,\"size\":10,\"http_code\":301,\"last_visited\":\"2025-03-10T07:07:55Z\","
            + "\"first_seen\":\"2012-09-19T12:15:11Z\",\"ahrefs_rank\":100,\"url\":\"all-reversed\"}",
    ];

    private static string Response(IEnumerable<string> records, string separator = ",")
        => "{\"pages\":[" + string.Join(separator, records) + "],\"stats\":{\"pages\":1}}";

    /// <summary>Runs the scanner as ParallelResponseReader does: data cut at <paramref name="cut"/>, then the rest.</summary>
    private static (SegmentScanner.Outcome Outcome, List<object?[]> Rows, SegmentScanner Scanner) Scan(byte[] data, int cut)
    {
        var batches = new List<RecordBatch>();
        var scanner = new SegmentScanner(new PageBatchBuilder(4, sourceId: 3), batches);
        long origin = 0;
        var window = data.AsSpan(0, Math.Min(cut, data.Length));
        var outcome = scanner.Scan(window, origin, stopAt: long.MaxValue);
        if (outcome == SegmentScanner.Outcome.NeedMore)
        {
            origin += scanner.Position;
            outcome = scanner.Scan(data.AsSpan((int)origin), origin, stopAt: long.MaxValue);
        }
        if (outcome == SegmentScanner.Outcome.Ended)
        {
            scanner.Flush();
        }
        var rows = new List<object?[]>();
        foreach (var batch in batches)
        {
            using (batch)
            {
                rows.AddRange(TestData.ToRows(batch));
            }
        }
        return (outcome, rows, scanner);
    }

    private static async Task<List<object?[]>> ReadSequentiallyAsync(string json)
    {
        var (rows, _, _) = await TestData.ReadAllAsync(new MemoryStream(TestData.Utf8(json)),
            new ResponseReaderOptions { BatchRows = 4, SourceId = 3 });
        return rows;
    }

    /// <summary>The bytes of the "pages" array after its '[' up to and including its ']'.</summary>
    private static byte[] ArrayContent(string json)
    {
        int open = json.IndexOf('[', StringComparison.Ordinal) + 1;
        int close = json.LastIndexOf(']');
        return TestData.Utf8(json[open..(close + 1)]);
    }

    [Fact]
    public async Task Every_supported_shape_reads_as_the_token_reader_reads_it_wherever_the_data_is_cut()
    {
        string json = Response(Supported, ",\n  ");
        var expected = await ReadSequentiallyAsync(json);
        var data = ArrayContent(json);
        for (int cut = 0; cut <= data.Length; cut++)
        {
            var (outcome, rows, scanner) = Scan(data, cut);
            Assert.Equal(SegmentScanner.Outcome.Ended, outcome);
            Assert.True(scanner.EndsArray);
            Assert.Equal(data.Length - 1, scanner.End);
            Assert.Equal(TestData.Dump(expected), TestData.Dump(rows));
        }
    }

    [Fact]
    public async Task Each_supported_record_alone_reads_as_the_token_reader_reads_it()
    {
        foreach (var record in Supported)
        {
            string json = Response([record]);
            var expected = await ReadSequentiallyAsync(json);
            var (outcome, rows, _) = Scan(ArrayContent(json), int.MaxValue);
            Assert.Equal(SegmentScanner.Outcome.Ended, outcome);
            Assert.Equal(TestData.Dump(expected), TestData.Dump(rows));
        }
    }

    [Fact]
    public void The_segment_stops_at_the_first_record_at_or_after_the_stop_offset()
    {
        var data = TestData.Utf8("{\"url\":\"a\"}, {\"url\":\"b\"},{\"url\":\"c\"}]");
        int second = Encoding.ASCII.GetString(data).IndexOf("{\"url\":\"b", StringComparison.Ordinal);
        foreach (int stop in new[] { 1, second })
        {
            var scanner = new SegmentScanner(new PageBatchBuilder(4, 0), []);
            Assert.Equal(SegmentScanner.Outcome.Ended, scanner.Scan(data, origin: 1000, stopAt: 1000 + stop));
            Assert.Equal(1000 + second, scanner.End);
            Assert.False(scanner.EndsArray);
            Assert.Equal(1, scanner.Rows);
        }
        var empty = new SegmentScanner(new PageBatchBuilder(4, 0), []);
        Assert.Equal(SegmentScanner.Outcome.Ended, empty.Scan(" \n]"u8, 0, 1));
        Assert.True(empty.EndsArray);
        Assert.Equal(2, empty.End);
    }

    /// <summary>Records the scanner must hand back: what ResponseReader reads by other rules, or rejects.</summary>
    public static TheoryData<string> Unsupported => new()
    {
        "{\"url\":\"a\",\"extra\":1}",
        "{\"url\":\"a\",\"extra\":{\"b\":[1]}}",
        "{\"ur\\u006c\":\"a\"}",
        "{\"url\":\"a\",\"backlinks\":1234567890123456789}",
        "{\"url\":\"a\",\"backlinks\":1.0}",
        "{\"url\":\"a\",\"backlinks\":1e3}",
        "{\"url\":\"a\",\"backlinks\":1E3}",
        "{\"url\":\"a\",\"backlinks\":01}",
        "{\"url\":\"a\",\"backlinks\":-}",
        "{\"url\":\"a\",\"backlinks\":+1}",
        "{\"url\":\"a\",\"backlinks\":1-2}",
        "{\"url\":\"a\",\"backlinks\":\"12\"}",
        "{\"url\":\"a\",\"http_code\":2147483648}",
        "{\"url\":\"a\",\"http_code\":-2147483649}",
        "{\"url\":\"a\",\"first_seen\":\"2013-11-20T09:46:29+00:00\"}",
        "{\"url\":\"a\",\"first_seen\":\"2013-11-20T09:46:29\\u005a\"}",
        "{\"url\":\"a\",\"first_seen\":\"2013-02-30T09:46:29Z\"}",
        "{\"url\":\"a\",\"first_seen\":1}",
        "{\"url\":\"a\",\"title\":\"\\ud800\"}",
        "{\"url\":\"a\",\"title\":\"\\udc00\"}",
        "{\"url\":\"a\",\"title\":\"\\ud800\\u0041\"}",
        "{\"url\":\"a\",\"title\":\"\\x\"}",
        "{\"url\":\"a\",\"title\":\"\\u12G4\"}",
        "{\"url\":\"a\",\"title\":\"a\u0001b\"}",
        "{\"url\":\"a\",\"title\":\"tab\there\"}",
        "{\"url\":\"a\",\"title\":true}",
        "{\"url\":\"a\",\"title\":false}",
        "{\"url\":\"a\",\"title\":{}}",
        "{\"url\":\"a\",\"title\":[1]}",
        "{\"url\":\"a\",\"title\":nul}",
        "{\"url\":\"a\",\"title\":nullx}",
        "{\"url\":123}",
        "{}",
        "{\"title\":\"no url\"}",
        "{\"url\":null}",
        "{\"url\":\"a\",}",
        "{\"url\":\"a\"},",
        "{\"url\":\"a\"}{\"url\":\"b\"}",
        "{\"url\" \"a\"}",
        "{\"url\":\"a\"}}",
        "{\"url\":\"a\" \"title\":\"b\"}",
        "[\"url\"]",
        "{'url':'a'}",
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void A_record_it_does_not_handle_is_handed_back(string record)
    {
        var data = TestData.Utf8("{\"url\":\"before\"},\n" + record + "]");
        var batches = new List<RecordBatch>();
        var builder = new PageBatchBuilder(4, 0);
        var scanner = new SegmentScanner(builder, batches);
        Assert.Equal(SegmentScanner.Outcome.Unsupported, scanner.Scan(data, 0, long.MaxValue));
        Assert.True(scanner.Rows >= 1); // the records before were read; the caller drops the segment
        Assert.Empty(batches);
    }

    [Theory]
    [MemberData(nameof(Unsupported))]
    public async Task A_file_with_a_record_it_does_not_handle_reads_as_the_sequential_reader_reads_it(string record)
    {
        var records = Enumerable.Range(0, 40).Select(i => $"{{\"url\":\"http://x/{i}\",\"backlinks\":{i}}}").ToList();
        records.Insert(25, record);
        string json = Response(records);
        string path = Path.Combine(_dir, "mixed.json");
        File.WriteAllText(path, json, new UTF8Encoding(false));
        List<object?[]>? expected = null;
        try
        {
            expected = await ReadSequentiallyAsync(json);
        }
        catch (PagesException)
        {
            // Rejected by the sequential reader: the parallel one must hand the file back.
        }
        var reader = new ParallelResponseReader(path, new ResponseReaderOptions { BatchRows = 4, SourceId = 3 },
            new ParallelReadOptions { Workers = 2, SegmentBytes = 97, OverrunSegments = 1_000_000, ChunkBytes = 64 });
        var rows = new List<object?[]>();
        async Task ReadAll()
        {
            await foreach (var batch in reader.ReadBatchesAsync())
            {
                using (batch)
                {
                    rows.AddRange(TestData.ToRows(batch));
                }
            }
        }
        if (expected is null)
        {
            await Assert.ThrowsAsync<ParallelFallbackException>(ReadAll);
        }
        else
        {
            await ReadAll();
            Assert.Equal(TestData.Dump(expected), TestData.Dump(rows));
        }
        Assert.True(reader.ScannedSegments > 0, "the plain records around it were scanned");
    }

    [Theory]
    [InlineData(16)]
    [InlineData(61)]
    [InlineData(1024)]
    [InlineData(512 * 1024)]
    public async Task Small_chunks_and_many_segments_give_the_sequential_rows(int chunkBytes)
    {
        var records = new List<string>();
        for (int round = 0; round < 8; round++)
        {
            records.AddRange(Supported);
        }
        string json = Response(records, ",\n ");
        string path = Path.Combine(_dir, "chunks.json");
        File.WriteAllText(path, json, new UTF8Encoding(false));
        var expected = await ReadSequentiallyAsync(json);
        foreach (long segment in new long[] { 50, 333, 4096, 1 << 20 })
        {
            var reader = new ParallelResponseReader(path, new ResponseReaderOptions { BatchRows = 4, SourceId = 3 },
                new ParallelReadOptions { Workers = 2, SegmentBytes = segment, OverrunSegments = 1_000_000, ChunkBytes = chunkBytes });
            var rows = new List<object?[]>();
            await foreach (var batch in reader.ReadBatchesAsync())
            {
                using (batch)
                {
                    rows.AddRange(TestData.ToRows(batch));
                }
            }
            Assert.Equal(TestData.Dump(expected), TestData.Dump(rows));
            Assert.True(reader.ScannedSegments >= reader.Segments, $"{reader.ScannedSegments} scanned of {reader.Segments} taken");
        }
    }

    [Fact]
    public async Task Invalid_utf8_in_a_scanned_record_hands_the_file_back()
    {
        var records = Enumerable.Range(0, 30).Select(i => $"{{\"url\":\"http://x/{i}\",\"title\":\"t{i}\"}}").ToList();
        var bytes = TestData.Utf8(Response(records)).ToList();
        int at = Encoding.ASCII.GetString([.. bytes]).IndexOf("t17", StringComparison.Ordinal);
        bytes.Insert(at, 0xC3); // a lead byte followed by ASCII
        string path = Path.Combine(_dir, "invalid.json");
        File.WriteAllBytes(path, [.. bytes]);
        await using (var stream = File.OpenRead(path))
        {
            await Assert.ThrowsAnyAsync<PagesException>(() => TestData.ReadAllAsync(stream, new ResponseReaderOptions()));
        }
        var reader = new ParallelResponseReader(path, new ResponseReaderOptions { BatchRows = 4 },
            new ParallelReadOptions { Workers = 2, SegmentBytes = 100, OverrunSegments = 1_000_000, ChunkBytes = 128 });
        await Assert.ThrowsAsync<ParallelFallbackException>(async () =>
        {
            await foreach (var batch in reader.ReadBatchesAsync())
            {
                batch.Dispose();
            }
        });
    }

    [Fact]
    public async Task A_generated_response_is_read_by_the_scanner_segment_after_segment()
    {
        string path = Path.Combine(_dir, "generated.json");
        await using (var output = File.Create(path))
        {
            await ResponseGenerator.WriteAsync(output, new GeneratorOptions { Rows = 5_000, Seed = 11, Pretty = true });
        }
        await using var input = File.OpenRead(path);
        var (expected, _, _) = await TestData.ReadAllAsync(input, new ResponseReaderOptions { BatchRows = 4096 });
        var reader = new ParallelResponseReader(path, new ResponseReaderOptions { BatchRows = 4096 },
            new ParallelReadOptions { Workers = 2, SegmentBytes = 64 * 1024, ChunkBytes = 16 * 1024 });
        var rows = new List<object?[]>();
        await foreach (var batch in reader.ReadBatchesAsync())
        {
            using (batch)
            {
                rows.AddRange(TestData.ToRows(batch));
            }
        }
        Assert.Equal(TestData.Dump(expected), TestData.Dump(rows));
        Assert.True(reader.Segments > 10);
        // Every segment taken, and every one parsed again from its true start, went through the scanner.
        Assert.True(reader.ScannedSegments >= reader.Segments + reader.Reparsed,
            $"{reader.ScannedSegments} scanned, {reader.Segments} taken, {reader.Reparsed} reparsed");
    }
}
