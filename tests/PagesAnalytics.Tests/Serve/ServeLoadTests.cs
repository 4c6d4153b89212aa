using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using PagesAnalytics.Cli;
using PagesAnalytics.Cli.Serve;
using PagesAnalytics.Ingest;
using PagesAnalytics.Store;
using PagesAnalytics.Tests.Support;
using Xunit.Abstractions;

namespace PagesAnalytics.Tests.Serve;

/// <summary>A 100k-row store made by the generator and ingested once for the load tests.</summary>
public sealed class ServeLoadFixture : IAsyncLifetime
{
    public const int Rows = 100_000;

    private readonly TempDir _dir = new();

    public string Store { get; private set; } = "";

    public async Task InitializeAsync()
    {
        string input = _dir.File("100k.json");
        await using (var file = File.Create(input))
        {
            await ResponseGenerator.WriteAsync(file, new GeneratorOptions { Rows = Rows, Seed = 20251101 });
        }
        Store = _dir.File("store");
        Assert.Equal(0, await ServeStoresFixture.Cli("ingest", input, "--store", Store));
        File.Delete(input);
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// Bounded load on a real server: 8 concurrent clients x 200 mixed requests (every format, targets, filters, order,
/// offset, gzip, HTTP/1.0, a deliberate 400) on a 100k-row store. Every answer is checked against hand-written DuckDB SQL
/// and byte for byte against the other answers to the same request; p50/p99 latency are printed.
/// </summary>
public sealed class ServeLoadTests(ServeLoadFixture fixture, ITestOutputHelper output) : IClassFixture<ServeLoadFixture>
{
    private const int Clients = 8;
    private const int RequestsPerClient = 200;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(150);

    private sealed record LoadCase(string Name, string Request, V2Output Output, int Status, IReadOnlyList<string> Urls, long Stats, long Cost,
        string? AcceptEncoding = null, bool Http10 = false, string? Error = null);

    [Fact]
    public async Task Eight_clients_times_200_mixed_requests_are_all_answered_correctly()
    {
        var cases = BuildCases();
        await using var served = await ServedStore.StartAsync(fixture.Store);
        var latencies = new ConcurrentBag<double>();
        var firstAnswer = new ConcurrentDictionary<string, string>();
        var failures = new ConcurrentQueue<string>();
        using var bound = new CancellationTokenSource(Bound);
        var wall = Stopwatch.StartNew();

        var clients = Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            using var http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = served.Url };
            for (int k = 0; k < RequestsPerClient; k++)
            {
                var c = cases[(client * 7 + k) % cases.Count];
                using var request = new HttpRequestMessage(HttpMethod.Get, c.Request);
                if (c.AcceptEncoding is not null)
                {
                    request.Headers.TryAddWithoutValidation("Accept-Encoding", c.AcceptEncoding);
                }
                if (c.Http10)
                {
                    request.Version = HttpVersion.Version10;
                    request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
                }
                long started = Stopwatch.GetTimestamp();
                Answer answer;
                try
                {
                    using var response = await http.SendAsync(request, bound.Token);
                    answer = await Answer.ReadAsync(response);
                }
                catch (Exception error)
                {
                    failures.Enqueue($"{c.Name}: {error.GetType().Name}: {error.Message}");
                    continue;
                }
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                string? problem = Check(c, answer);
                if (problem is null && firstAnswer.GetOrAdd(c.Name, answer.Text) != answer.Text)
                {
                    problem = "differs from an earlier answer to the same request";
                }
                if (problem is not null)
                {
                    failures.Enqueue($"{c.Name}: {problem}");
                }
            }
        }, bound.Token)).ToArray();
        await Task.WhenAll(clients);
        wall.Stop();

        var sorted = latencies.OrderBy(x => x).ToArray();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Clients} clients x {RequestsPerClient} requests on {ServeLoadFixture.Rows:N0} rows, {cases.Count} request kinds: {sorted.Length} answered in {wall.Elapsed.TotalSeconds:F1} s ({sorted.Length / wall.Elapsed.TotalSeconds:F0} req/s)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"latency ms: p50 {Percentile(sorted, 0.50):F1}, p90 {Percentile(sorted, 0.90):F1}, p99 {Percentile(sorted, 0.99):F1}, max {sorted[^1]:F1}"));
        var serverMs = served.Log.Lines().Select(line => double.Parse(line[(line.IndexOf(" ms=", StringComparison.Ordinal) + 4)..].Split(' ')[0], CultureInfo.InvariantCulture))
            .OrderBy(x => x).ToArray();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"server-side ms (log): p50 {Percentile(serverMs, 0.50):F1}, p99 {Percentile(serverMs, 0.99):F1}; DuckDB sessions opened: {served.Server.SessionsOpened}; stats from cache {served.Server.StatsCacheCounts.Hits}, counted {served.Server.StatsCacheCounts.Misses}"));
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(20)));
        Assert.Equal(Clients * RequestsPerClient, sorted.Length);
        Assert.Equal(Clients * RequestsPerClient, served.Log.Lines().Length); // one log line per request
        Assert.True(wall.Elapsed < Bound, $"load took {wall.Elapsed}");
    }

    [Fact]
    public async Task A_slow_or_vanishing_client_does_not_hold_up_others()
    {
        // One query slot: the stalled answer must have handed it back before streaming, or nothing else would run.
        await using var served = await ServedStore.StartAsync(fixture.Store, new ServeOptions { Port = 0, MaxLimit = ServeLoadFixture.Rows, MaxQueries = 1 });
        // ~40 MB of JSON that nobody reads: the server fills the socket and waits on this client alone.
        var slow = new HttpClient { BaseAddress = served.Url };
        var response = await slow.GetAsync($"/?from=pages_extended&limit={ServeLoadFixture.Rows}&all=1&token=", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[4096];
        await body.ReadAtLeastAsync(first, first.Length);
        Assert.StartsWith("{\"pages\":[{\"url\":", Encoding.UTF8.GetString(first));

        var probe = Stopwatch.StartNew();
        for (int i = 0; i < 10; i++)
        {
            var answer = await served.GetAsync($"/?from=pages_extended&where=http_code%3D503&limit=5&offset={i}&select=url&token=");
            Assert.Equal(HttpStatusCode.OK, answer.Status);
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"10 requests beside a stalled 100k-row answer: {probe.Elapsed.TotalMilliseconds:F0} ms"));
        Assert.True(probe.Elapsed < TimeSpan.FromSeconds(20), $"other requests took {probe.Elapsed}");
        Assert.Equal(1, served.Server.ActiveRequests); // only the stalled one is in flight

        // The client goes away mid-answer: the server stops writing and lets the session go.
        response.Dispose();
        slow.Dispose();
        var wait = Stopwatch.StartNew();
        while (served.Server.ActiveRequests > 0 && wait.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(50);
        }
        Assert.Equal(0, served.Server.ActiveRequests);
        Assert.Contains(served.Log.Lines(), line => line.Contains("&all=1&", StringComparison.Ordinal) && line.Contains("aborted", StringComparison.Ordinal));
        // and the server goes on answering
        Assert.Equal(HttpStatusCode.OK, (await served.GetAsync("/?from=pages_extended&limit=1&token=")).Status);
    }

    private static double Percentile(double[] sorted, double p) => sorted[(int)Math.Round(p * (sorted.Length - 1))];

    /// <summary>Null when the answer is right, else what is wrong with it.</summary>
    private static string? Check(LoadCase c, Answer answer)
    {
        if ((int)answer.Status != c.Status)
        {
            return $"status {(int)answer.Status}, expected {c.Status}: {answer.Text[..Math.Min(200, answer.Text.Length)]}";
        }
        if (c.Error is not null)
        {
            return JsonNode.Parse(answer.Text)!["error"]!.GetValue<string>() == c.Error ? null : "wrong error " + answer.Text;
        }
        if (answer.Header("Content-Encoding") != (c.AcceptEncoding is null ? null : "gzip"))
        {
            return "Content-Encoding " + answer.Header("Content-Encoding");
        }
        if (answer.Header("X-Rows-Cost") != c.Cost.ToString(CultureInfo.InvariantCulture))
        {
            return $"X-Rows-Cost {answer.Header("X-Rows-Cost")}, expected {c.Cost}";
        }
        List<string> urls;
        long stats;
        if (c.Output == V2Output.Xml)
        {
            var root = XDocument.Parse(answer.Text).Root!;
            urls = root.Element("pages")!.Elements("page").Select(p => p.Element("url")!.Value).ToList();
            stats = (long)root.Element("stats")!.Element("pages")!;
        }
        else
        {
            var root = c.Output == V2Output.Php ? PhpUnserializer.Parse(new UTF8Encoding(false).GetBytes(answer.Text))! : JsonNode.Parse(answer.Text)!;
            urls = root["pages"]!.AsArray().Select(p => (string)p!["url"]!).ToList();
            stats = (long)root["stats"]!["pages"]!;
        }
        if (stats != c.Stats)
        {
            return $"stats {stats}, expected {c.Stats}";
        }
        return urls.SequenceEqual(c.Urls) ? null : $"urls [{string.Join(' ', urls.Take(3))} ..] ({urls.Count}), expected [{string.Join(' ', c.Urls.Take(3))} ..] ({c.Urls.Count})";
    }

    /// <summary>The request kinds, each with its answer computed by hand-written SQL (where, then one row per url, then having/order/limit).</summary>
    private List<LoadCase> BuildCases()
    {
        using var session = PagesStore.Open(fixture.Store).OpenQuery();
        var cases = new List<LoadCase>();

        List<string> Urls(string sql)
        {
            using var command = session.Connection.CreateCommand();
            command.CommandText = sql;
            using var reader = command.ExecuteReader();
            var urls = new List<string>();
            while (reader.Read())
            {
                urls.Add(reader.GetString(0));
            }
            return urls;
        }
        long Count(string sql)
        {
            using var command = session.Connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
        // where before de-duplication, as the API did: filter, then keep each url's first row (one source here)
        string Matched(string where) => $"SELECT * FROM pages WHERE {where} QUALIFY row_number() OVER (PARTITION BY url ORDER BY source_id DESC, row_ordinal) = 1";
        void Add(string name, string query, V2Output format, string where, string? having, string order, long limit, long offset,
            string? acceptEncoding = null, bool http10 = false)
        {
            string matched = Matched(where);
            string result = having is null ? matched : $"SELECT * FROM ({matched}) WHERE {having}";
            long stats = Count($"SELECT count(*) FROM ({result})");
            var urls = Urls($"SELECT url FROM ({result}) ORDER BY {order} LIMIT {limit} OFFSET {offset}");
            bool hasWhere = query.Contains("where=", StringComparison.Ordinal);
            long cost = 1 + urls.Count + (hasWhere ? 5 : 0) + (having is null ? 0 : 5) + (offset > 0 ? 5 : 0);
            string output = format switch { V2Output.Xml => "&output=xml", V2Output.Php => "&output=php", _ => "" };
            cases.Add(new LoadCase(name, "/?from=pages_extended&" + query + output + "&token=load", format, 200, urls, stats, cost, acceptEncoding, http10));
        }

        // exact targets: single urls, taken from different http codes
        var targets = Urls("SELECT url FROM pages WHERE url NOT LIKE '%/' AND http_code IN (200, 301, 404, 0) ORDER BY hash(url) LIMIT 6");
        for (int i = 0; i < targets.Count; i++)
        {
            string t = targets[i][(targets[i].IndexOf("://", StringComparison.Ordinal) + 3)..];
            string q = t.Replace("'", "''", StringComparison.Ordinal);
            string where = $"url IN ('http://{q}', 'https://{q}', 'http://{q}/', 'https://{q}/')";
            var format = (V2Output)(i % 3);
            Add($"exact-{i}-{format}", "target=" + Uri.EscapeDataString(t) + "&mode=exact", format, where, null, "source_id, row_ordinal", 1000, 0,
                http10: i == 4);
        }
        Add("stats-limit-1", "where=http_code%3D410&limit=1&select=url", V2Output.Json, "http_code = 410", null, "source_id, row_ordinal", 1, 0);
        Add("503-by-backlinks-xml", "where=http_code%3D503%2Cbacklinks%3E%3D10&order_by=backlinks%3Adesc&limit=20&select=url,backlinks,http_code",
            V2Output.Xml, "http_code = 503 AND backlinks >= 10", null, "backlinks DESC NULLS LAST, source_id, row_ordinal", 20, 0);
        Add("503-by-backlinks-gzip", "where=http_code%3D503%2Cbacklinks%3E%3D10&order_by=backlinks%3Adesc&limit=20&select=url,backlinks,http_code",
            V2Output.Json, "http_code = 503 AND backlinks >= 10", null, "backlinks DESC NULLS LAST, source_id, row_ordinal", 20, 0, acceptEncoding: "gzip,deflate");
        Add("500-php", "where=http_code%3D500%2Crefdomains%3E%3D50&order_by=refdomains%3Adesc%2Curl&limit=50&select=url,refdomains,title,first_seen",
            V2Output.Php, "http_code = 500 AND refdomains >= 50", null, "refdomains DESC NULLS LAST, url, source_id, row_ordinal", 50, 0);
        Add("302-offset", "where=http_code%3D302&limit=100&offset=10&select=url,redirect_url", V2Output.Json, "http_code = 302", null,
            "source_id, row_ordinal", 100, 10);
        Add("v3-404", "where=" + Uri.EscapeDataString("""{"and":[{"field":"http_code","is":["eq",404]},{"field":"backlinks","is":["gte",1000]}]}""")
            + "&order_by=backlinks:desc&limit=30&select=url,backlinks", V2Output.Json, "http_code = 404 AND backlinks >= 1000", null,
            "backlinks DESC NULLS LAST, source_id, row_ordinal", 30, 0);
        Add("substring-gzip-php", "where=" + Uri.EscapeDataString("refdomains>50,substring(title,\"SEO\")") + "&limit=25&select=url,title",
            V2Output.Php, "refdomains > 50 AND contains(title, 'SEO')", null, "source_id, row_ordinal", 25, 0, acceptEncoding: "gzip");
        Add("having", "where=http_code%3D200%2Cbacklinks%3E5000&having=refdomains%3E1000&limit=10&select=url,refdomains&order_by=refdomains:desc",
            V2Output.Json, "http_code = 200 AND backlinks > 5000", "refdomains > 1000", "refdomains DESC NULLS LAST, source_id, row_ordinal", 10, 0);
        cases.Add(new LoadCase("bad-filter", "/?from=pages_extended&where=refdomain%3E3&token=load", V2Output.Json, 400, [], 0, 0,
            Error: "where: unknown column 'refdomain' at 0 (did you mean 'refdomains'?)"));
        foreach (var c in cases)
        {
            // a request kind that matches nothing would prove little
            Assert.True(c.Status != 200 || c.Urls.Count > 0, c.Name + " matches no rows");
        }
        return cases;
    }
}
