using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using PagesAnalytics.Store;

namespace PagesAnalytics.Benchmarks;

/// <summary>
/// <c>serve-bench --store DIR [--pages PATH | --url URL] [--clients 8] [--requests 200]</c>: load on <c>pages serve</c>
/// from outside, over HTTP, the way old v2 clients talk to it. Unless <c>--url</c> names a running server, it starts
/// <c>PATH serve --store DIR --port 0 --max-limit 1000000</c> (PATH defaults to the Release build of the CLI) and reads
/// the server's memory from /proc. Three phases, each printed as a table row:
/// <list type="number">
/// <item><c>repeated</c>: clients x requests of a fixed mix (exact targets, filters with order and offset, limit=1 stats,
/// json/xml/php, gzip, HTTP/1.0). Answers to the same request must be byte-identical. Counts come from the stats cache
/// after the first of each kind.</item>
/// <item><c>unique</c>: the same number of requests, every filter different, so every one runs its count.</item>
/// <item><c>whole store</c>: one answer of every row (limit 1,000,000, json, gzip) streamed to a client that reads
/// it all, with small requests running beside it; the server's peak RSS says whether the rows were buffered.</item>
/// </list>
/// </summary>
internal static class ServeBench
{
    public static bool IsCommand(string name) => name == "serve-bench";

    private sealed record Request(string Name, string PathAndQuery, string? AcceptEncoding = null, bool Http10 = false);

    public static async Task<int> RunAsync(string[] args)
    {
        string? storeDir = null, pages = null, url = null;
        int clients = 8, requests = 200;
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--store" when i + 1 < args.Length:
                    storeDir = args[++i];
                    break;
                case "--pages" when i + 1 < args.Length:
                    pages = args[++i];
                    break;
                case "--url" when i + 1 < args.Length:
                    url = args[++i];
                    break;
                case "--clients" when i + 1 < args.Length:
                    clients = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--requests" when i + 1 < args.Length:
                    requests = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine($"serve-bench: unknown argument {args[i]}");
                    return 2;
            }
        }
        if (storeDir is null)
        {
            Console.Error.WriteLine("usage: serve-bench --store DIR [--pages PATH | --url URL] [--clients 8] [--requests 200]");
            return 2;
        }
        var store = PagesStore.Open(storeDir);
        var (rows, targets) = Inspect(store);
        Process? server = null;
        try
        {
            if (url is null)
            {
                pages ??= Path.Combine("src", "PagesAnalytics.Cli", "bin", "Release", "net10.0", "pages");
                (server, url) = await StartServerAsync(pages, store.Directory);
            }
            var baseUrl = new Uri(url);
            Console.WriteLine($"# serve-bench on {store.Directory}: {rows:N0} rows, {clients} clients x {requests} requests per phase, server {baseUrl}");
            Console.WriteLine();
            Console.WriteLine("| phase | requests | wall (s) | req/s | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | errors | server peak RSS (MB) |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");

            var mix = Mix(targets);
            await PhaseAsync("repeated mix", baseUrl, clients, requests, (client, k) => mix[(client * 7 + k) % mix.Count], checkIdentical: true, server);
            await PhaseAsync("unique filters", baseUrl, clients, requests, (client, k) =>
            {
                int n = client * requests + k;
                string where = Uri.EscapeDataString(string.Create(CultureInfo.InvariantCulture, $"http_code={(n % 2 == 0 ? 404 : 503)},backlinks>={n}"));
                return new Request("unique", $"/?from=pages_extended&where={where}&order_by=backlinks:desc&limit=50&select=url,backlinks&token=");
            }, checkIdentical: false, server);
            await WholeStoreAsync(baseUrl, rows, targets, server);
        }
        finally
        {
            if (server is not null)
            {
                server.Kill();
                await server.WaitForExitAsync();
                server.Dispose();
            }
        }
        return 0;
    }

    private static (long Rows, List<string> Targets) Inspect(PagesStore store)
    {
        using var session = store.OpenQuery();
        using var count = session.Connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM pages";
        long rows = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
        using var pick = session.Connection.CreateCommand();
        pick.CommandText = "SELECT url FROM pages WHERE http_code IN (0, 200, 301, 404) ORDER BY hash(url) LIMIT 12";
        using var reader = pick.ExecuteReader();
        var targets = new List<string>();
        while (reader.Read())
        {
            string u = reader.GetString(0);
            targets.Add(u[(u.IndexOf("://", StringComparison.Ordinal) + 3)..]);
        }
        return (rows, targets);
    }

    private static List<Request> Mix(List<string> targets)
    {
        static string E(string text) => Uri.EscapeDataString(text);
        var mix = new List<Request>();
        for (int i = 0; i < targets.Count; i++)
        {
            string output = (i % 3) switch { 0 => "", 1 => "&output=xml", _ => "&output=php" };
            mix.Add(new Request($"exact-{i}", $"/?from=pages_extended&target={E(targets[i])}&mode=exact{output}&token=", Http10: i == 4));
        }
        mix.Add(new Request("stats", "/?from=pages_extended&where=http_code%3D410&limit=1&token="));
        mix.Add(new Request("503-xml", $"/?from=pages_extended&where={E("http_code=503,backlinks>=10")}&order_by=backlinks:desc&limit=20&select=url,backlinks,http_code&output=xml&token="));
        mix.Add(new Request("503-gzip", $"/?from=pages_extended&where={E("http_code=503,backlinks>=10")}&order_by=backlinks:desc&limit=20&select=url,backlinks,http_code&token=", "gzip,deflate"));
        mix.Add(new Request("500-php", $"/?from=pages_extended&where={E("http_code=500,refdomains>=50")}&order_by=refdomains:desc,url&limit=50&select=url,refdomains,title,first_seen&output=php&token="));
        mix.Add(new Request("302-offset", "/?from=pages&where=http_code%3D302&limit=100&offset=10&select=url,redirect_url&token="));
        mix.Add(new Request("v3", $"/?from=pages_extended&where={E("""{"and":[{"field":"http_code","is":["eq",404]},{"field":"backlinks","is":["gte",1000]}]}""")}&order_by=backlinks:desc&limit=30&select=url,backlinks&token="));
        mix.Add(new Request("substring", $"/?from=pages_extended&where={E("refdomains>50,substring(title,\"SEO\")")}&limit=25&select=url,title&output=php&token=", "gzip"));
        mix.Add(new Request("having", $"/?from=pages_extended&where={E("http_code=200,backlinks>5000")}&having=refdomains%3E1000&limit=10&select=url,refdomains&order_by=refdomains:desc&token="));
        return mix;
    }

    private static async Task PhaseAsync(string name, Uri baseUrl, int clients, int requests, Func<int, int, Request> pick, bool checkIdentical, Process? server)
    {
        var latencies = new ConcurrentBag<double>();
        var first = new ConcurrentDictionary<string, byte[]>();
        int errors = 0;
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            using var http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.All }) { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(5) };
            for (int k = 0; k < requests; k++)
            {
                var request = pick(client, k);
                long started = Stopwatch.GetTimestamp();
                try
                {
                    byte[] body = await SendAsync(http, request);
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    if (checkIdentical && !first.GetOrAdd(request.Name, body).AsSpan().SequenceEqual(body))
                    {
                        throw new InvalidOperationException("differs from an earlier answer to the same request");
                    }
                }
                catch (Exception error)
                {
                    if (Interlocked.Increment(ref errors) <= 5)
                    {
                        Console.Error.WriteLine($"serve-bench: {request.Name}: {error.Message}");
                    }
                }
            }
        }))).ConfigureAwait(false);
        wall.Stop();
        var sorted = latencies.OrderBy(x => x).ToArray();
        Row(name, sorted, wall.Elapsed, errors, server);
    }

    private static async Task<byte[]> SendAsync(HttpClient http, Request request)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, request.PathAndQuery);
        if (request.AcceptEncoding is not null)
        {
            message.Headers.TryAddWithoutValidation("Accept-Encoding", request.AcceptEncoding);
        }
        if (request.Http10)
        {
            message.Version = HttpVersion.Version10;
            message.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }
        using var response = await http.SendAsync(message).ConfigureAwait(false);
        byte[] body = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"status {(int)response.StatusCode}");
        }
        return body;
    }

    private static async Task WholeStoreAsync(Uri baseUrl, long rows, List<string> targets, Process? server)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(10) };
        using var message = new HttpRequestMessage(HttpMethod.Get, "/?from=pages_extended&limit=1000000&token=");
        message.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");
        var wall = Stopwatch.StartNew();
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
        double firstByteMs = wall.Elapsed.TotalMilliseconds;
        var stream = await response.Content.ReadAsStreamAsync();

        // small requests beside the big answer
        using var cts = new CancellationTokenSource();
        var beside = new ConcurrentBag<double>();
        var small = Task.Run(async () =>
        {
            using var other = new HttpClient { BaseAddress = baseUrl };
            int i = 0;
            while (!cts.IsCancellationRequested)
            {
                long started = Stopwatch.GetTimestamp();
                await SendAsync(other, new Request("beside", $"/?from=pages_extended&target={Uri.EscapeDataString(targets[i++ % targets.Count])}&mode=exact&token="));
                beside.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        });
        long compressed = 0;
        long uncompressed = 0;
        using (var gzip = new System.IO.Compression.GZipStream(new CountingStream(stream, n => compressed += n), System.IO.Compression.CompressionMode.Decompress))
        {
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await gzip.ReadAsync(buffer)) > 0)
            {
                uncompressed += read;
            }
        }
        wall.Stop();
        await cts.CancelAsync();
        await small;
        var sorted = beside.OrderBy(x => x).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| whole store: {Math.Min(rows, 1_000_000):N0} rows, json+gzip, {uncompressed / 1e6:F0} MB ({compressed / 1e6:F0} MB on the wire), first byte {firstByteMs:F0} ms | 1 | {wall.Elapsed.TotalSeconds:F1} | | | | | | 0 | {PeakRss(server)} |"));
        Row($"small exact requests beside it (X-Rows-Cost of the big one: {response.Headers.GetValues("X-Rows-Cost").First()})", sorted, wall.Elapsed, 0, server);
    }

    private static void Row(string name, double[] sorted, TimeSpan wall, int errors, Process? server)
    {
        if (sorted.Length == 0)
        {
            Console.WriteLine($"| {name} | 0 | | | | | | | {errors} | {PeakRss(server)} |");
            return;
        }
        double P(double p) => sorted[(int)Math.Round(p * (sorted.Length - 1))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {sorted.Length} | {wall.TotalSeconds:F1} | {sorted.Length / wall.TotalSeconds:F0} | {P(0.5):F1} | {P(0.9):F1} | {P(0.99):F1} | {sorted[^1]:F1} | {errors} | {PeakRss(server)} |"));
    }

    private static string PeakRss(Process? server)
    {
        if (server is null || !File.Exists($"/proc/{server.Id}/status"))
        {
            return "";
        }
        foreach (var line in File.ReadLines($"/proc/{server.Id}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                long kb = long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return (kb / 1024).ToString(CultureInfo.InvariantCulture);
            }
        }
        return "";
    }

    private static async Task<(Process Server, string Url)> StartServerAsync(string pages, string store)
    {
        var start = new ProcessStartInfo(pages)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "serve", "--store", store, "--port", "0", "--max-limit", "1000000" })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {pages}");
        var url = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Keep draining stderr (one log line per request) so the server never blocks on a full pipe.
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null && Regex.Match(e.Data, @"listening on (\S+)") is { Success: true } match)
            {
                url.TrySetResult(match.Groups[1].Value);
            }
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var started = await Task.WhenAny(url.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
        if (started != url.Task)
        {
            process.Kill();
            throw new InvalidOperationException($"{pages} serve did not print its URL");
        }
        return (process, await url.Task);
    }

    /// <summary>Counts the bytes read through it (compressed size of the big answer).</summary>
    private sealed class CountingStream(Stream inner, Action<int> counted) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = inner.Read(buffer, offset, count);
            counted(n);
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            counted(n);
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
