using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using PagesAnalytics.Ingest;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Tests.Ingest;

public sealed class ResponseGeneratorTests
{
    private const int Rows = 5_000;
    private const string Sentinel = "1970-01-01T00:00:00Z";
    private static readonly int[] ExpectedCodes = [0, 200, 301, 302, 404, 410, 500, 503];
    private static readonly Regex DateFormat = new(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", RegexOptions.CultureInvariant);

    private static async Task<(byte[] Bytes, GeneratorSummary Summary)> GenerateAsync(GeneratorOptions options)
    {
        using var stream = new MemoryStream();
        var summary = await ResponseGenerator.WriteAsync(stream, options);
        return (stream.ToArray(), summary);
    }

    private static GeneratorOptions Compact(int seed = GeneratorOptions.DefaultSeed) => new() { Rows = Rows, Seed = seed };

    [Fact]
    public async Task Compact_response_is_valid_and_every_row_holds_the_invariants()
    {
        var (bytes, summary) = await GenerateAsync(Compact());
        using var document = JsonDocument.Parse(bytes);
        var root = document.RootElement;

        var pages = root.GetProperty("pages");
        Assert.Equal(Rows, pages.GetArrayLength());
        Assert.True(root.GetProperty("stats").GetProperty("pages").GetInt64() >= Rows);

        var codes = new HashSet<int>();
        long sumBacklinks = 0, sumRefdomains = 0, lastVisitedNotNull = 0;
        foreach (var page in pages.EnumerateArray())
        {
            Assert.Equal(PagesSchema.ApiColumnCount, page.EnumerateObject().Count());
            for (int c = 0; c < PagesSchema.ApiColumnCount; c++)
            {
                Assert.True(page.TryGetProperty(PagesSchema.Columns[c].Name, out _), PagesSchema.Columns[c].Name);
            }

            int code = page.GetProperty("http_code").GetInt32();
            long backlinks = page.GetProperty("backlinks").GetInt64();
            long refdomains = page.GetProperty("refdomains").GetInt64();
            long refips = page.GetProperty("refips").GetInt64();
            long refclassC = page.GetProperty("refclass_c").GetInt64();
            string firstSeen = page.GetProperty("first_seen").GetString()!;
            string lastVisited = page.GetProperty("last_visited").GetString()!;
            codes.Add(code);
            sumBacklinks += backlinks;
            sumRefdomains += refdomains;

            Assert.Equal(backlinks, page.GetProperty("dofollow").GetInt64() + page.GetProperty("nofollow").GetInt64());
            Assert.InRange(page.GetProperty("ahrefs_rank").GetInt32(), 0, 100);
            Assert.True(refclassC <= refips && refips <= refdomains, $"class_c {refclassC} refips {refips} refdomains {refdomains}");
            Assert.Matches(DateFormat, firstSeen);
            Assert.Matches(DateFormat, lastVisited);
            Assert.Contains(page.GetProperty("encoding").GetString(), new[] { "utf8", "iso-8859-1", "windows-1251", "" });
            Assert.Contains(page.GetProperty("content_encoding").GetString(), new[] { "gzip", "br", "deflate", "" });
            Assert.StartsWith("http", page.GetProperty("url").GetString());

            if (lastVisited == Sentinel)
            {
                Assert.Equal(0, code);
                Assert.Equal(0, backlinks);
                Assert.Equal(0, page.GetProperty("ahrefs_rank").GetInt32());
                Assert.Equal(0, page.GetProperty("size").GetInt64());
                Assert.Equal(0, page.GetProperty("links_internal").GetInt32());
                Assert.Equal(0, page.GetProperty("redirects").GetInt64());
                Assert.Equal("", page.GetProperty("title").GetString());
                Assert.Equal("", page.GetProperty("encoding").GetString());
                Assert.Equal("", page.GetProperty("redirect_url").GetString());
            }
            else
            {
                lastVisitedNotNull++;
                Assert.NotEqual(0, code);
                Assert.True(refdomains <= backlinks, $"refdomains {refdomains} > backlinks {backlinks}");
                Assert.True(string.CompareOrdinal(firstSeen, lastVisited) <= 0, $"{firstSeen} > {lastVisited}");
            }

            if (code is 301 or 302)
            {
                Assert.NotEqual("", page.GetProperty("redirect_url").GetString());
            }
            else
            {
                Assert.Equal("", page.GetProperty("redirect_url").GetString());
            }
        }

        foreach (int code in ExpectedCodes)
        {
            Assert.Contains(code, codes);
        }
        Assert.Equal(new GeneratorSummary(Rows, bytes.Length, sumBacklinks, sumRefdomains, lastVisitedNotNull), summary);
    }

    [Fact]
    public async Task Values_are_realistic_mixes()
    {
        var (bytes, _) = await GenerateAsync(Compact());
        using var document = JsonDocument.Parse(bytes);
        var pages = document.RootElement.GetProperty("pages");

        int ok = 0, huge = 0, shuffled = 0;
        var urls = new HashSet<string>();
        foreach (var page in pages.EnumerateArray())
        {
            ok += page.GetProperty("http_code").GetInt32() == 200 ? 1 : 0;
            huge += page.GetProperty("backlinks").GetInt64() > int.MaxValue ? 1 : 0;
            urls.Add(page.GetProperty("url").GetString()!);
            int i = 0;
            foreach (var property in page.EnumerateObject())
            {
                if (property.Name != PagesSchema.Columns[i++].Name)
                {
                    shuffled++;
                    break;
                }
            }
            var host = new Uri(page.GetProperty("url").GetString()!).Host;
            Assert.True(host == "example.com" || host.EndsWith(".example.com", StringComparison.Ordinal), host);
        }

        Assert.InRange(ok, Rows / 2, Rows * 95 / 100);
        Assert.True(huge >= 1, "some backlinks need int64");
        Assert.InRange(shuffled, 1, Rows / 10);
        Assert.True(urls.Count >= Rows * 9 / 10, $"only {urls.Count} distinct urls");
    }

    [Fact]
    public async Task Titles_carry_non_ascii_and_the_escapes_a_splitter_must_survive()
    {
        var (bytes, _) = await GenerateAsync(Compact());
        string raw = Encoding.UTF8.GetString(bytes);
        using var document = JsonDocument.Parse(bytes);
        var titles = document.RootElement.GetProperty("pages").EnumerateArray()
            .Select(p => p.GetProperty("title").GetString()!).ToList();

        Assert.Contains(titles, t => t.Contains("},{", StringComparison.Ordinal));
        Assert.Contains(titles, t => t.Contains("{\"", StringComparison.Ordinal));
        Assert.Contains(titles, t => t.Contains('"') && t.Contains('\\'));
        Assert.Contains(titles, t => t.Contains('\t'));
        Assert.Contains(titles, t => t.Contains('\n'));
        Assert.Contains(titles, t => t.Any(c => c is >= 'а' and <= 'я'));
        Assert.Contains(titles, t => t.Any(char.IsSurrogate));
        Assert.Contains(titles, t => t.Contains('é'));

        Assert.Contains("\\\"},{\\\"", raw);
        Assert.Contains("\\\\", raw);
        Assert.Contains("\\t", raw);
        Assert.Contains("\\n", raw);
        Assert.Contains("\\/", raw);
        Assert.Matches(new Regex(@"\\u(00[89a-f]|0[1-9a-f][0-9a-f]|[1-9a-f][0-9a-f]{2})[0-9a-f]"), raw);
        Assert.Matches(new Regex(@"\\ud83[c-f]\\ud[c-f][0-9a-f]{2}"), raw);
        // Most non-ASCII is raw UTF-8, including 4-byte sequences (emoji).
        Assert.Contains("é", raw);
        Assert.Contains("Купить", raw);
        Assert.Contains("🚀", raw);
        // Separators between records outnumber nothing: titles add more "},{" than the rows alone.
        Assert.True(Regex.Count(raw, "},{") > Rows - 1);
    }

    [Fact]
    public async Task Pretty_and_compact_hold_the_same_data()
    {
        var (compact, compactSummary) = await GenerateAsync(Compact());
        var (pretty, prettySummary) = await GenerateAsync(Compact() with { Pretty = true });

        Assert.DoesNotContain((byte)'\n', compact);
        Assert.True(pretty.Length > compact.Length);
        Assert.Equal((byte)'\n', pretty[^1]);
        using var a = JsonDocument.Parse(compact);
        using var b = JsonDocument.Parse(pretty);
        Assert.True(JsonElement.DeepEquals(a.RootElement, b.RootElement));
        Assert.Equal(compactSummary with { Bytes = pretty.Length }, prettySummary);
    }

    [Fact]
    public async Task Same_seed_gives_identical_bytes_and_another_seed_does_not()
    {
        var (first, _) = await GenerateAsync(Compact(seed: 7));
        var (second, _) = await GenerateAsync(Compact(seed: 7));
        var (other, _) = await GenerateAsync(Compact(seed: 8));

        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public async Task Host_decides_the_urls()
    {
        var (bytes, _) = await GenerateAsync(new GeneratorOptions { Rows = 1_000, Seed = 11, Host = "shop.example.org" });
        using var document = JsonDocument.Parse(bytes);
        foreach (var page in document.RootElement.GetProperty("pages").EnumerateArray())
        {
            var host = new Uri(page.GetProperty("url").GetString()!).Host;
            Assert.True(host == "shop.example.org" || host.EndsWith(".shop.example.org", StringComparison.Ordinal), host);
            Assert.DoesNotContain("shop.shop.", host);
        }
    }

    [Fact]
    public async Task Zero_rows_write_the_empty_response()
    {
        var (bytes, summary) = await GenerateAsync(new GeneratorOptions());

        Assert.Equal("""{"pages":[],"stats":{"pages":0}}""", Encoding.UTF8.GetString(bytes));
        Assert.Equal(new GeneratorSummary(0, bytes.Length, 0, 0, 0), summary);
    }

    [Fact]
    public async Task Bad_options_name_the_setting()
    {
        using var stream = new MemoryStream();

        var rows = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => ResponseGenerator.WriteAsync(stream, new GeneratorOptions { Rows = -1 }));
        Assert.Contains("Rows", rows.Message);
        var host = await Assert.ThrowsAsync<ArgumentException>(
            () => ResponseGenerator.WriteAsync(stream, new GeneratorOptions { Rows = 1, Host = "example.com/path" }));
        Assert.Contains("Host", host.Message);
        await Assert.ThrowsAsync<ArgumentException>(
            () => ResponseGenerator.WriteAsync(stream, new GeneratorOptions { Rows = 1, Host = "" }));
        Assert.Equal(0, stream.Length);
    }

    [Fact]
    public async Task Cancellation_stops_the_run()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => ResponseGenerator.WriteAsync(Stream.Null, new GeneratorOptions { Rows = 100_000 }, cts.Token));
    }

    [Fact]
    public async Task WriteFileAsync_writes_the_same_bytes_and_reports_progress()
    {
        var (expected, expectedSummary) = await GenerateAsync(Compact());
        string path = Path.Combine(Path.GetTempPath(), $"generator-{Guid.NewGuid():N}.json");
        var progress = new RecordingProgress();
        try
        {
            var summary = await ResponseGenerator.WriteFileAsync(path, Compact(), progress);

            Assert.Equal(expectedSummary, summary);
            Assert.Equal(expected, await File.ReadAllBytesAsync(path));
            Assert.True(progress.Values.Count >= 2);
            Assert.Equal(Rows, progress.Values[^1]);
            Assert.Equal(progress.Values.Order().ToList(), progress.Values);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class RecordingProgress : IProgress<long>
    {
        public List<long> Values { get; } = [];

        public void Report(long value) => Values.Add(value);
    }
}
