using System.Text.Json;
using BenchmarkDotNet.Attributes;
using PagesAnalytics.Ingest;

namespace PagesAnalytics.Benchmarks;

/// <summary>
/// Parsing one compact <c>pages_extended</c> response held in memory: the naive <see cref="System.Text.Json.JsonDocument"/>
/// walk a user would write first, our streaming <see cref="Ingest.ResponseReader"/> into Arrow (as it runs, with
/// plain records read by <see cref="SegmentScanner"/>, and with every token read by <see cref="Utf8JsonReader"/>),
/// and the floor of a token-by-token parser — a bare <see cref="Utf8JsonReader"/> token scan.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public class ReaderBenchmarks
{
    private byte[] _response = [];

    [Params(100_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup() => _response = BenchmarkInput.Response(Rows);

    /// <summary>Whole response into a DOM, then every one of the 19 fields of every page read by name.</summary>
    [Benchmark(Baseline = true)]
    public long JsonDocument()
    {
        using var document = System.Text.Json.JsonDocument.Parse(_response);
        long checksum = 0;
        foreach (var page in document.RootElement.GetProperty("pages").EnumerateArray())
        {
            string url = page.GetProperty("url").GetString()!;
            long ahrefsRank = page.GetProperty("ahrefs_rank").GetInt64();
            DateTimeOffset firstSeen = page.GetProperty("first_seen").GetDateTimeOffset();
            DateTimeOffset lastVisited = page.GetProperty("last_visited").GetDateTimeOffset();
            long httpCode = page.GetProperty("http_code").GetInt64();
            long size = page.GetProperty("size").GetInt64();
            long linksInternal = page.GetProperty("links_internal").GetInt64();
            long linksExternal = page.GetProperty("links_external").GetInt64();
            string encoding = page.GetProperty("encoding").GetString()!;
            string title = page.GetProperty("title").GetString()!;
            string redirectUrl = page.GetProperty("redirect_url").GetString()!;
            string contentEncoding = page.GetProperty("content_encoding").GetString()!;
            long backlinks = page.GetProperty("backlinks").GetInt64();
            long dofollow = page.GetProperty("dofollow").GetInt64();
            long nofollow = page.GetProperty("nofollow").GetInt64();
            long redirects = page.GetProperty("redirects").GetInt64();
            long refdomains = page.GetProperty("refdomains").GetInt64();
            long refclassC = page.GetProperty("refclass_c").GetInt64();
            long refips = page.GetProperty("refips").GetInt64();

            checksum += url.Length + encoding.Length + title.Length + redirectUrl.Length + contentEncoding.Length;
            checksum += ahrefsRank + firstSeen.UtcTicks + lastVisited.UtcTicks + httpCode + size + linksInternal + linksExternal;
            checksum += backlinks + dofollow + nofollow + redirects + refdomains + refclassC + refips;
        }
        return checksum;
    }

    /// <summary>The library's streaming reader: every row into Arrow batches, each disposed when counted.</summary>
    [Benchmark]
    public Task<long> ResponseReader() => ReadAsync(scanner: true);

    /// <summary>The same with the scanner off: every token through <see cref="Utf8JsonReader"/>.</summary>
    [Benchmark]
    public Task<long> ResponseReaderTokensOnly() => ReadAsync(scanner: false);

    private async Task<long> ReadAsync(bool scanner)
    {
        using var stream = new MemoryStream(_response, writable: false);
        var reader = new Ingest.ResponseReader(stream, new ResponseReaderOptions { Scanner = scanner });
        long rows = 0;
        await foreach (var batch in reader.ReadBatchesAsync())
        {
            rows += batch.Length;
            batch.Dispose();
        }
        return rows;
    }

    /// <summary>Tokenizing without building anything: what no token-by-token parser can beat on one thread.</summary>
    [Benchmark]
    public long BareTokenScan()
    {
        var reader = new Utf8JsonReader(_response, isFinalBlock: true, state: default);
        long tokens = 0;
        while (reader.Read())
        {
            tokens++;
        }
        return tokens;
    }
}
