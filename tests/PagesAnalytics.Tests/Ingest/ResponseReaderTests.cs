using System.Text;
using PagesAnalytics.Ingest;
using PagesAnalytics.Schema;
using PagesAnalytics.Tests.Support;

namespace PagesAnalytics.Tests.Ingest;

public class ResponseReaderTests
{
    private static readonly DateTimeOffset Crawled = new(2013, 11, 20, 9, 46, 29, TimeSpan.Zero);

    /// <summary>The documented example, as the columns of PagesSchema (sentinel date -> NULL).</summary>
    internal static readonly object?[][] ExampleRows =
    [
        ["https://ahrefs.com/", 85, Crawled, Crawled, 200, 9211L, 26, 4, "utf8",
            "Ahrefs Site Explorer & Backlink Checker", "", "gzip", 15901L, 6186L, 9144L, 571L, 1134L, 836L, 964L, 7, 0L],
        ["http://ahrefs.com/", 0, Crawled, null, 0, 0L, 0, 0, "", "", "", "", 0L, 0L, 0L, 0L, 2334L, 1342L, 1537L, 7, 1L],
    ];

    private static byte[] Example => File.ReadAllBytes(TestData.SamplePath("pages_extended-example.json"));

    [Fact]
    public async Task Example_response_reads_every_field_as_documented()
    {
        var (rows, sizes, reader) = await TestData.ReadAllAsync(Example, new ResponseReaderOptions { SourceId = 7 });

        Assert.Equal([2], sizes);
        Assert.Equal(TestData.Dump(ExampleRows), TestData.Dump(rows));
        Assert.Equal(393209, reader.StatsPages);
        Assert.Equal(2, reader.Rows);
        Assert.Equal(0, reader.UnknownKeys);
        Assert.Equal(Example.Length, reader.BytesRead);
    }

    [Fact]
    public async Task Example_split_at_every_byte_gives_identical_batches()
    {
        var bytes = Example;
        var expected = TestData.Dump((await TestData.ReadAllAsync(bytes, new ResponseReaderOptions { SourceId = 7 })).Rows);
        for (int split = 0; split <= bytes.Length; split++)
        {
            // Two chunks split at `split`, through a buffer small enough that it must also grow.
            var stream = new ChunkedStream(bytes, split == 0 ? int.MaxValue : split, int.MaxValue);
            var (rows, _, reader) = await TestData.ReadAllAsync(stream, new ResponseReaderOptions { SourceId = 7, BufferBytes = 8 });
            Assert.True(expected == TestData.Dump(rows), $"split at {split} differs");
            Assert.Equal(393209, reader.StatsPages);
        }
    }

    [Fact]
    public async Task One_byte_reads_give_identical_batches()
    {
        var bytes = Example;
        var (rows, _, _) = await TestData.ReadAllAsync(new ChunkedStream(bytes, 1), new ResponseReaderOptions { SourceId = 7, BufferBytes = 1 });
        Assert.Equal(TestData.Dump(ExampleRows), TestData.Dump(rows));
    }

    [Fact]
    public async Task Keys_in_any_order_with_any_whitespace_and_stats_first()
    {
        const string json = "\r\n\t {  \"stats\" : { \"pages\" : 12 } ,\n \"pages\" :\n[ { \"refips\":964,\"refclass_c\":836,\"refdomains\":1134,\"redirects\":571,"
            + "\"nofollow\":9144,\"dofollow\":6186,\"backlinks\":15901,\"content_encoding\":\"gzip\",\"redirect_url\":\"\","
            + "\"title\":\"Ahrefs Site Explorer & Backlink Checker\",\"encoding\":\"utf8\",\"links_external\":4,\"links_internal\":26,"
            + "\"size\":9211,\"http_code\":200,\"last_visited\":\"2013-11-20T09:46:29Z\",\"first_seen\":\"2013-11-20T09:46:29Z\","
            + "\"ahrefs_rank\":85,\"url\":\"https://ahrefs.com/\"}\n\n ] \t}\n  ";
        var (rows, _, reader) = await TestData.ReadAllAsync(TestData.Utf8(json), new ResponseReaderOptions { SourceId = 7 });
        Assert.Equal(TestData.Dump(ExampleRows.Take(1)), TestData.Dump(rows));
        Assert.Equal(12, reader.StatsPages);
    }

    [Fact]
    public async Task Escapes_are_decoded_including_surrogate_pairs_and_escaped_keys()
    {
        const string json = """
            {"pages":[{"\u0075rl":"https://x.com/a\/b","title":"q\"uote \\ back \/ slash \t tab \n nl \u00e9t\u00E9 \ud83d\ude00 \u4e2d",
            "encoding":"ut\u0066\u0038","redirect_url":"caf\u00e9 ☕ raw"}]}
            """;
        var (rows, _, _) = await TestData.ReadAllAsync(TestData.Utf8(json));
        var row = Assert.Single(rows);
        Assert.Equal("https://x.com/a/b", row[PagesSchema.Url]);
        Assert.Equal("q\"uote \\ back / slash \t tab \n nl été 😀 中", row[PagesSchema.Title]);
        Assert.Equal("utf8", row[PagesSchema.Encoding]);
        Assert.Equal("café ☕ raw", row[PagesSchema.RedirectUrl]);
    }

    [Fact]
    public async Task Unknown_keys_at_any_depth_are_skipped_and_counted()
    {
        const string json = """
            {"request":{"target":"ahrefs.com","pages":[1,2,{"url":"no"}]},"pages":[
              {"url":"https://a/","extra":{"nested":[{"url":"x"},[{}]],"more":null},"http_code":200,"flags":[1,[2,{"x":"}"}]],"odd":"\"}"},
              {"url":"https://b/","backlinks":5}
            ],"stats":{"pages":2,"took":{"ms":[1,2]}},"trailer":true}
            """;
        var (rows, _, reader) = await TestData.ReadAllAsync(TestData.Utf8(json));
        Assert.Equal(2, rows.Count);
        Assert.Equal("https://a/", rows[0][PagesSchema.Url]);
        Assert.Equal(200, rows[0][PagesSchema.HttpCode]);
        Assert.Equal(5L, rows[1][PagesSchema.Backlinks]);
        Assert.Equal(2, reader.StatsPages);
        // request, extra, flags, odd, took, trailer
        Assert.Equal(6, reader.UnknownKeys);
    }

    [Fact]
    public async Task Missing_keys_and_nulls_are_null_and_empty_strings_stay_empty()
    {
        const string json = """{"pages":[{"url":"https://a/","title":null,"backlinks":null,"first_seen":null,"encoding":""}]}""";
        var (rows, _, reader) = await TestData.ReadAllAsync(TestData.Utf8(json));
        var row = Assert.Single(rows);
        for (int c = 0; c < PagesSchema.ApiColumnCount; c++)
        {
            if (c == PagesSchema.Url)
            {
                Assert.Equal("https://a/", row[c]);
            }
            else if (c == PagesSchema.Encoding)
            {
                Assert.Equal("", row[c]);
            }
            else
            {
                Assert.True(row[c] is null, $"column {PagesSchema.Columns[c].Name} should be NULL, was {row[c]}");
            }
        }
        Assert.Null(reader.StatsPages);
    }

    [Fact]
    public async Task Repeated_key_keeps_the_last_value()
    {
        const string json = """{"pages":[{"url":"https://a/","title":"first","title":"second","size":1,"size":2},{"url":"https://b/","title":"third"}]}""";
        var (rows, _, _) = await TestData.ReadAllAsync(TestData.Utf8(json));
        Assert.Equal("second", rows[0][PagesSchema.Title]);
        Assert.Equal(2L, rows[0][PagesSchema.Size]);
        Assert.Equal("third", rows[1][PagesSchema.Title]);
    }

    [Fact]
    public async Task Epoch_sentinel_is_null_and_other_iso_forms_parse()
    {
        const string json = """
            {"pages":[{"url":"u","first_seen":"1970-01-01T00:00:00Z","last_visited":"2020-02-29T23:59:59Z"},
            {"url":"v","first_seen":"2020-01-02T03:04:05.5+01:00","last_visited":"2020-01-02"}]}
            """;
        var (rows, _, _) = await TestData.ReadAllAsync(TestData.Utf8(json));
        Assert.Null(rows[0][PagesSchema.FirstSeen]);
        Assert.Equal(new DateTimeOffset(2020, 2, 29, 23, 59, 59, TimeSpan.Zero), rows[0][PagesSchema.LastVisited]);
        Assert.Equal(new DateTimeOffset(2020, 1, 2, 2, 4, 5, 500, TimeSpan.Zero), rows[1][PagesSchema.FirstSeen]);
        Assert.Equal(new DateTimeOffset(2020, 1, 2, 0, 0, 0, TimeSpan.Zero), rows[1][PagesSchema.LastVisited]);
    }

    [Fact]
    public async Task Numbers_given_as_strings_are_accepted_and_big_counts_stay_64_bit()
    {
        const string json = """{"pages":[{"url":"u","http_code":"301","backlinks":"5000000000","refips":9007199254740993}]}""";
        var (rows, _, _) = await TestData.ReadAllAsync(TestData.Utf8(json));
        Assert.Equal(301, rows[0][PagesSchema.HttpCode]);
        Assert.Equal(5_000_000_000L, rows[0][PagesSchema.Backlinks]);
        Assert.Equal(9007199254740993L, rows[0][PagesSchema.Refips]);
    }

    [Fact]
    public async Task Batches_have_the_configured_size_and_carry_source_and_ordinal()
    {
        var json = new StringBuilder("{\"pages\":[");
        for (int i = 0; i < 5; i++)
        {
            json.Append(i == 0 ? "" : ",").Append($"{{\"url\":\"https://a/{i}\",\"backlinks\":{i * 10}}}");
        }
        json.Append("]}");
        var (rows, sizes, _) = await TestData.ReadAllAsync(TestData.Utf8(json.ToString()), new ResponseReaderOptions { BatchRows = 2, SourceId = 3 });
        Assert.Equal([2, 2, 1], sizes);
        Assert.Equal([0L, 1L, 2L, 3L, 4L], rows.Select(r => (long)r[PagesSchema.RowOrdinalIndex]!));
        Assert.All(rows, r => Assert.Equal(3, r[PagesSchema.SourceIdIndex]));
        Assert.Equal([0L, 10L, 20L, 30L, 40L], rows.Select(r => (long)r[PagesSchema.Backlinks]!));
    }

    [Fact]
    public async Task Empty_pages_yields_no_batch()
    {
        var (rows, sizes, reader) = await TestData.ReadAllAsync(File.ReadAllBytes(TestData.SamplePath("pages_extended-empty.json")));
        Assert.Empty(rows);
        Assert.Empty(sizes);
        Assert.Equal(0, reader.StatsPages);
    }

    [Fact]
    public async Task Utf8_bom_is_accepted()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Example).ToArray();
        var (rows, _, _) = await TestData.ReadAllAsync(new ChunkedStream(bytes, 1, 1, 5));
        Assert.Equal(2, rows.Count);
    }

    [Fact]
    public async Task Error_response_raises_the_api_message()
    {
        var error = await Assert.ThrowsAsync<ApiErrorResponseException>(() => TestData.ReadAllAsync(
            TestData.Utf8("""{"error":"Target \"x\" is not valid"}"""), new ResponseReaderOptions { SourceName = "e.json" }));
        Assert.Equal("Target \"x\" is not valid", error.ApiMessage);
        Assert.Equal("e.json", error.Source);
        Assert.Contains("Target \"x\" is not valid", error.Message);
    }

    public static TheoryData<string, long?, long, long, string> MalformedCases => new()
    {
        // json, record, line, byte, reason fragment
        { """{"pages":[{"url":"u","backlinks":"abc"}]}""", 0, 1, 33, "\"backlinks\" expected a number, got \"abc\"" },
        { "{\"pages\":[\n{\"url\":\"u\"},\n{\"url\":\"v\",\n\"http_code\":true}]}", 1, 4, 48, "\"http_code\" expected a number, got true" },
        { """{"pages":[{"url":"u","http_code":3000000000}]}""", 0, 1, 33, "out of range for a 32-bit integer" },
        { """{"pages":[{"url":"u","first_seen":"yesterday"}]}""", 0, 1, 34, "expected an ISO-8601 date" },
        { """{"pages":[{"url":"u","title":5}]}""", 0, 1, 29, "\"title\" expected a string, got 5" },
        { """{"pages":[{"url":"u"},7]}""", 0, 1, 22, "each element of \"pages\" must be an object" },
        { """{"pages":[{"title":"no url"}]}""", 0, 1, 27, "the record has no \"url\"" },
        { """{"pages":{}}""", null, 1, 9, "\"pages\" must be an array" },
        { """[1,2]""", null, 1, 0, "a response must be a JSON object" },
        { """{"stats":{"pages":1}}""", null, 1, 20, "no \"pages\" array" },
        { """{"pages":[]} {"stats":{}}""", null, 1, 24, "no \"pages\" array" },
        { """{"pages":[]} [1]""", null, 1, 13, "a response must be a JSON object" },
        { " \n ", null, 2, 3, "the input holds no JSON value" },
        { "{\"pages\":[{\"url\":\"u\"}\n,{\"url\":\"v\" \"size\":1}]}", 1, 2, 34, "malformed JSON" },
        { "{\"pages\":[{\"url\":\"u\"},\n{\"url\":\"v\",\"size\":1", 1, 2, 42, "malformed JSON" },
        { "{\"pages\":[]} x", null, 1, 13, "malformed JSON" },
        { "{\"pages\":[{\"url\":\"u\"}]}\n{\"pages\":[{\"url\":\"v\",\"size\":1,}]}", 1, 2, 54, "malformed JSON" },
        { "", null, 1, 0, "the input is empty" },
        { """{"pages":[{"url":"\ud800"}]}""", 0, 1, 17, "a string cannot be decoded" },
        { """{"pages":[{"url":"a","title":"x\udc00y"}]}""", 0, 1, 29, "a string cannot be decoded" },
    };

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public async Task Malformed_input_fails_at_the_right_record_line_and_byte(string json, long? record, long line, long position, string reason)
    {
        var bytes = TestData.Utf8(json);
        // The same position whether the input arrives whole or split at any byte.
        for (int split = 0; split <= bytes.Length; split++)
        {
            var error = await Assert.ThrowsAsync<ResponseFormatException>(() => TestData.ReadAllAsync(
                new ChunkedStream(bytes, split == 0 ? int.MaxValue : split, int.MaxValue),
                new ResponseReaderOptions { SourceName = "bad.json", BufferBytes = 4 }));
            Assert.Equal("bad.json", error.Source);
            Assert.Equal(record, error.RecordIndex);
            Assert.Equal(line, error.Line);
            Assert.Equal(position, error.BytePosition);
            Assert.Contains(reason, error.Message);
            Assert.StartsWith("bad.json: ", error.Message);
        }
    }

    [Fact]
    public async Task Invalid_utf8_in_a_string_is_refused_not_altered()
    {
        var bytes = TestData.Utf8("""{"pages":[{"url":"a","title":"__"}]}""");
        int at = System.Array.IndexOf(bytes, (byte)'_');
        bytes[at] = 0xC3;
        bytes[at + 1] = 0x28;
        var error = await Assert.ThrowsAsync<ResponseFormatException>(() => TestData.ReadAllAsync(bytes));
        Assert.Contains("not valid UTF-8", error.Message);
        Assert.Equal(at - 1, error.BytePosition);
    }

    [Fact]
    public async Task Utf8_is_checked_the_same_wherever_reads_cut_a_sequence()
    {
        // Multi-byte text (2, 3 and 4 bytes) must pass whatever read boundary cuts it; an invalid sequence after
        // it must fail at the same string, whatever the boundaries and however much was checked in bulk before.
        var good = TestData.Utf8("{\"pages\":[{\"url\":\"a\",\"title\":\"caf\u00e9 \u65e5\u672c \ud83d\ude80 ok\"},{\"url\":\"b\",\"title\":\"__\"}]}");
        var (expected, _, _) = await TestData.ReadAllAsync(good);
        var bad = good.ToArray();
        int at = System.Array.LastIndexOf(bad, (byte)'_') - 1;
        bad[at] = 0xE2;       // a 3-byte lead...
        bad[at + 1] = 0x28;   // ...followed by ASCII: invalid
        for (int split = 1; split <= good.Length; split++)
        {
            var (rows, _, _) = await TestData.ReadAllAsync(new ChunkedStream(good, split, int.MaxValue),
                new ResponseReaderOptions { BufferBytes = 4 });
            Assert.Equal(TestData.Dump(expected), TestData.Dump(rows));
            foreach (int size in new[] { 4, 64, 4096 })
            {
                var error = await Assert.ThrowsAsync<ResponseFormatException>(() => TestData.ReadAllAsync(
                    new ChunkedStream(bad, split, 1, 3, int.MaxValue), new ResponseReaderOptions { BufferBytes = size }));
                Assert.Contains("not valid UTF-8", error.Message);
                Assert.Equal(at - 1, error.BytePosition);
                Assert.Equal(1, error.RecordIndex);
            }
        }
    }

    [Fact]
    public async Task An_error_value_that_is_not_a_string_is_still_an_api_error()
    {
        var error = await Assert.ThrowsAsync<ApiErrorResponseException>(() => TestData.ReadAllAsync(TestData.Utf8("""{"error":{"code":1}}""")));
        Assert.Contains("an object", error.ApiMessage);
        var undecodable = await Assert.ThrowsAsync<ResponseFormatException>(() => TestData.ReadAllAsync(TestData.Utf8("""{"error":"\ud800"}""")));
        Assert.Contains("cannot be decoded", undecodable.Message);
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("7", 7L)]
    [InlineData("1234567890", 1234567890L)]
    [InlineData("999999999999999999", 999999999999999999L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("-5", -5L)]
    [InlineData("5e2", null)]
    [InlineData("5.0", null)]
    [InlineData("9223372036854775808", null)]
    public async Task Integers_read_as_the_framework_reads_them(string number, long? expected)
    {
        var json = TestData.Utf8("{\"pages\":[{\"url\":\"u\",\"backlinks\":" + number + "}]}");
        if (expected is { } value)
        {
            var (rows, _, _) = await TestData.ReadAllAsync(json);
            Assert.Equal(value, rows[0][PagesSchema.Backlinks]);
        }
        else
        {
            var error = await Assert.ThrowsAsync<ResponseFormatException>(() => TestData.ReadAllAsync(json));
            Assert.Contains("expected an integer", error.Message);
        }
        Assert.Equal(long.TryParse(number, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long framework), expected is not null);
        if (expected is not null)
        {
            Assert.Equal(framework, expected);
        }
    }

    [Fact]
    public void Fast_timestamp_path_matches_the_framework()
    {
        foreach (var text in new[] { "2013-11-20T09:46:29Z", "1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "1969-12-31T23:59:59Z", "9999-12-31T23:59:59Z" })
        {
            Assert.True(ResponseReader.TryParseUtcSeconds(Encoding.ASCII.GetBytes(text), out long micros));
            var expected = (DateTimeOffset.Parse(text).UtcTicks - DateTime.UnixEpoch.Ticks) / 10;
            Assert.Equal(expected, micros);
        }
        foreach (var text in new[] { "2013-02-29T00:00:00Z", "2013-11-20T24:00:00Z", "2013-11-20 09:46:29Z", "2013-11-20T09:46:29+" })
        {
            Assert.False(ResponseReader.TryParseUtcSeconds(Encoding.ASCII.GetBytes(text), out _));
        }
    }
}
