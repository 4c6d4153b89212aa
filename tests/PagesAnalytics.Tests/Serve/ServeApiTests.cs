using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using PagesAnalytics.Cli;
using PagesAnalytics.Cli.Serve;
using PagesAnalytics.Tests.Support;

namespace PagesAnalytics.Tests.Serve;

/// <summary>Stores ingested once for the serve tests, and one server over the documented example shared by them.</summary>
public sealed class ServeStoresFixture : IAsyncLifetime
{
    private readonly TempDir _dir = new();

    public string Example { get; private set; } = "";

    public string Samples { get; private set; } = "";

    /// <summary>A store whose titles hold quotes and backslashes, as PHP's addslashes() escapes them.</summary>
    public string Quotes { get; private set; } = "";

    internal ServedStore ExampleServer { get; private set; } = null!;

    public string NewStorePath(string name) => _dir.File(name + "-" + Guid.NewGuid().ToString("N")[..6]);

    public async Task InitializeAsync()
    {
        Example = _dir.File("example");
        Samples = _dir.File("samples");
        Quotes = _dir.File("quotes");
        Assert.Equal(0, await Cli("ingest", TestData.SamplePath("pages_extended-example.json"), "--store", Example));
        Assert.Equal(0, await Cli("ingest", Path.Combine(AppContext.BaseDirectory, "sample-responses"), "--store", Samples));
        string quotes = _dir.File("quotes.json");
        await File.WriteAllTextAsync(quotes, """
            {"pages":[
             {"url":"https://quotes.example/a","http_code":200,"title":"Bob's \"best\" \\ page","backlinks":3},
             {"url":"https://quotes.example/b","http_code":200,"title":"Bob says \"hi\"","backlinks":2},
             {"url":"https://quotes.example/c","http_code":404,"title":"Zoë – ünïcode ✓ 🚀","backlinks":1}
            ],"stats":{"pages":3}}
            """);
        Assert.Equal(0, await Cli("ingest", quotes, "--store", Quotes));
        ExampleServer = await ServedStore.StartAsync(Example);
    }

    public async Task DisposeAsync()
    {
        await ExampleServer.DisposeAsync();
        _dir.Dispose();
    }

    internal static async Task<int> Cli(params string[] args)
        => await PagesCli.RunAsync(args, new CliContext(new MemoryStream(), new StringWriter(), () => new MemoryStream()));
}

/// <summary><c>pages serve</c> against a real Kestrel on a loopback port: shapes, errors, token, HTTP/1.0, compression, limits, log.</summary>
public sealed class ServeApiTests(ServeStoresFixture stores) : IClassFixture<ServeStoresFixture>
{
    private const string Documented = "/?from=pages_extended&target=ahrefs.com&mode=domain&limit=1000&offset=0&token=";

    /// <summary>The documented example as PHP serialize() wrote it (string lengths in UTF-8 bytes, no trailing newline).</summary>
    private const string GoldenPhp =
        """a:2:{s:5:"pages";a:2:{i:0;a:19:{s:3:"url";s:19:"https://ahrefs.com/";s:11:"ahrefs_rank";i:85;s:10:"first_seen";s:20:"2013-11-20T09:46:29Z";s:12:"last_visited";s:20:"2013-11-20T09:46:29Z";s:9:"http_code";i:200;s:4:"size";i:9211;s:14:"links_internal";i:26;s:14:"links_external";i:4;s:8:"encoding";s:4:"utf8";s:5:"title";s:39:"Ahrefs Site Explorer & Backlink Checker";s:12:"redirect_url";s:0:"";s:16:"content_encoding";s:4:"gzip";s:9:"backlinks";i:15901;s:8:"dofollow";i:6186;s:8:"nofollow";i:9144;s:9:"redirects";i:571;s:10:"refdomains";i:1134;s:10:"refclass_c";i:836;s:6:"refips";i:964;}i:1;a:19:{s:3:"url";s:18:"http://ahrefs.com/";s:11:"ahrefs_rank";i:0;s:10:"first_seen";s:20:"2013-11-20T09:46:29Z";s:12:"last_visited";s:20:"1970-01-01T00:00:00Z";s:9:"http_code";i:0;s:4:"size";i:0;s:14:"links_internal";i:0;s:14:"links_external";i:0;s:8:"encoding";s:0:"";s:5:"title";s:0:"";s:12:"redirect_url";s:0:"";s:16:"content_encoding";s:0:"";s:9:"backlinks";i:0;s:8:"dofollow";i:0;s:8:"nofollow";i:0;s:9:"redirects";i:0;s:10:"refdomains";i:2334;s:10:"refclass_c";i:1342;s:6:"refips";i:1537;}}s:5:"stats";a:1:{s:5:"pages";i:2;}}""";

    private ServedStore Server => stores.ExampleServer;

    private static string Golden(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", name));

    [Fact]
    public async Task Json_answer_to_the_documented_request_is_the_golden_file()
    {
        var answer = await Server.GetAsync(Documented);
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("application/json; charset=utf-8", answer.Header("Content-Type"));
        Assert.Equal(Golden("example.v2.json"), answer.Text);
        Assert.Equal("3", answer.Header("X-Rows-Cost")); // 1 request + 2 rows
        Assert.Null(answer.Header("Content-Encoding"));
        Assert.Null(answer.Header("X-Limit-Capped"));
    }

    [Fact]
    public async Task Xml_answer_to_the_documented_request_is_the_golden_file()
    {
        var answer = await Server.GetAsync(Documented + "&output=xml");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("text/xml; charset=utf-8", answer.Header("Content-Type"));
        Assert.Equal(Golden("example.v2.xml"), answer.Text);
    }

    [Fact]
    public async Task Php_answer_to_the_documented_request_is_the_golden_text_and_reads_back_as_the_json_answer()
    {
        var answer = await Server.GetAsync(Documented + "&output=php");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("text/plain; charset=utf-8", answer.Header("Content-Type"));
        Assert.Equal(GoldenPhp, answer.Text);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Golden("example.v2.json")), PhpUnserializer.Parse(answer.Raw)));
        // pages query --format php writes the same bytes
        var stdout = new MemoryStream();
        Assert.Equal(0, await PagesCli.RunAsync(["query", "--store", stores.Example, "--format", "php"],
            new CliContext(stdout, new StringWriter(), () => new MemoryStream())));
        Assert.Equal(GoldenPhp, Encoding.UTF8.GetString(stdout.ToArray()));
    }

    [Fact]
    public async Task Php_lengths_are_utf8_bytes_on_non_ascii_titles_and_every_format_says_the_same()
    {
        await using var server = await ServedStore.StartAsync(stores.Samples);
        const string Request = "/?from=pages_extended&limit=1000&order_by=url&token=";
        var json = await server.GetAsync(Request);
        var php = await server.GetAsync(Request + "&output=php");
        var xml = await server.GetAsync(Request + "&output=xml");
        Assert.Equal(HttpStatusCode.OK, php.Status);
        var fromJson = JsonNode.Parse(json.Text)!;
        Assert.Equal(802, fromJson["pages"]!.AsArray().Count);
        Assert.Contains(fromJson["pages"]!.AsArray(), page => Encoding.UTF8.GetByteCount((string)page!["title"]!) > ((string)page["title"]!).Length);
        Assert.True(JsonNode.DeepEquals(fromJson, PhpUnserializer.Parse(php.Raw)));
        var pages = XDocument.Parse(xml.Text).Root!.Element("pages")!.Elements("page").ToList();
        Assert.Equal(802, pages.Count);
        for (int i = 0; i < pages.Count; i++)
        {
            Assert.Equal((string)fromJson["pages"]![i]!["url"]!, pages[i].Element("url")!.Value);
            Assert.Equal((long)fromJson["pages"]![i]!["backlinks"]!, (long)pages[i].Element("backlinks")!);
        }
        Assert.Equal(json.Header("X-Rows-Cost"), php.Header("X-Rows-Cost"));
        Assert.Equal("803", json.Header("X-Rows-Cost"));
    }

    [Fact]
    public async Task From_pages_answers_the_12_columns_without_backlink_counts()
    {
        var answer = await Server.GetAsync("/?from=pages&target=ahrefs.com&mode=domain&token=");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var page = JsonNode.Parse(answer.Text)!["pages"]![0]!.AsObject();
        Assert.Equal(["url", "ahrefs_rank", "first_seen", "last_visited", "http_code", "size", "links_internal", "links_external",
            "encoding", "title", "redirect_url", "content_encoding"], page.Select(p => p.Key));
        var chosen = await Server.GetAsync("/?from=pages&select=url,title&order_by=url:desc&where=http_code=0&token=");
        Assert.Equal("""{"pages":[{"url":"http://ahrefs.com/","title":""}],"stats":{"pages":1}}""" + "\n", chosen.Text);
        Assert.Equal("7", chosen.Header("X-Rows-Cost")); // 1 + 1 row + 5 for where
    }

    [Fact]
    public async Task Limit_1_reads_stats_and_offset_limit_and_cost_follow_the_api()
    {
        var answer = await Server.GetAsync("/?from=pages_extended&target=ahrefs.com&limit=1&select=url&token=");
        Assert.Equal("""{"pages":[{"url":"https://ahrefs.com/"}],"stats":{"pages":2}}""" + "\n", answer.Text);
        Assert.Equal("2", answer.Header("X-Rows-Cost"));
        var second = await Server.GetAsync("/?from=pages_extended&target=ahrefs.com&limit=1&offset=1&select=url&output=php&token=");
        Assert.Equal("""a:2:{s:5:"pages";a:1:{i:0;a:1:{s:3:"url";s:18:"http://ahrefs.com/";}}s:5:"stats";a:1:{s:5:"pages";i:2;}}""", second.Text);
        Assert.Equal("7", second.Header("X-Rows-Cost")); // 1 + 1 + 5 for offset
        var past = await Server.GetAsync("/?from=pages_extended&offset=5&select=url&output=php&token=");
        Assert.Equal("""a:2:{s:5:"pages";a:0:{}s:5:"stats";a:1:{s:5:"pages";i:2;}}""", past.Text);
        var none = await Server.GetAsync("/?from=pages_extended&limit=0&output=xml&token=");
        Assert.Equal("""<?xml version="1.0" encoding="utf-8"?><AhrefsApiResponse><pages /><stats><pages>2</pages></stats></AhrefsApiResponse>""" + "\n", none.Text);
    }

    [Fact]
    public async Task Limit_is_capped_at_max_limit_and_says_so()
    {
        await using var server = await ServedStore.StartAsync(stores.Samples, new ServeOptions { Port = 0, MaxLimit = 5 });
        var answer = await server.GetAsync("/?from=pages_extended&limit=500&select=url&token=");
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(5, JsonNode.Parse(answer.Text)!["pages"]!.AsArray().Count);
        Assert.Equal(802, (long)JsonNode.Parse(answer.Text)!["stats"]!["pages"]!);
        Assert.Equal("5", answer.Header("X-Limit-Capped"));
        Assert.Equal("6", answer.Header("X-Rows-Cost"));
        var byDefault = await server.GetAsync("/?from=pages_extended&select=url&token=");
        Assert.Equal(5, JsonNode.Parse(byDefault.Text)!["pages"]!.AsArray().Count);
        var within = await server.GetAsync("/?from=pages_extended&limit=3&select=url&token=");
        Assert.Null(within.Header("X-Limit-Capped"));
    }

    [Theory]
    [InlineData("""where=title="Bob\'s \"best\" \\ page" """)] // PHP addslashes() inside double quotes
    [InlineData("""where=title='Bob\'s \"best\" \\ page'""")] // and inside single quotes
    [InlineData("""where=substring(title,"Bob\'s"),substring(title,"\\")""")]
    [InlineData("""where={"field":"title","is":["eq","Bob's \"best\" \\ page"]}""")]
    public async Task Values_quoted_the_addslashes_way_match(string where)
    {
        await using var server = await ServedStore.StartAsync(stores.Quotes);
        var answer = await server.GetAsync("/?from=pages_extended&select=url,title&token=&" + Escape(where.TrimEnd()));
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("""{"pages":[{"url":"https://quotes.example/a","title":"Bob's \"best\" \\ page"}],"stats":{"pages":1}}""" + "\n", answer.Text);
    }

    private static string Escape(string pair)
    {
        int equals = pair.IndexOf('=');
        return pair[..equals] + "=" + Uri.EscapeDataString(pair[(equals + 1)..]);
    }

    [Fact]
    public async Task Form_encoded_plus_signs_and_percent_escapes_are_read_as_php_clients_send_them()
    {
        await using var server = await ServedStore.StartAsync(stores.Quotes);
        // http_build_query(): spaces as '+', quotes and backslashes percent-encoded
        var answer = await server.GetAsync("/?from=pages_extended&select=url&token=&where=substring%28title%2C%22Bob+says+%5C%22hi%5C%22%22%29");
        Assert.Equal("""{"pages":[{"url":"https://quotes.example/b"}],"stats":{"pages":1}}""" + "\n", answer.Text);
        var unicode = await server.GetAsync("/?from=pages_extended&select=url,title&output=php&token=&where=" + Uri.EscapeDataString("title=\"Zoë – ünïcode ✓ 🚀\""));
        Assert.Equal("""a:2:{s:5:"pages";a:1:{i:0;a:2:{s:3:"url";s:24:"https://quotes.example/c";s:5:"title";s:27:"Zoë – ünïcode ✓ 🚀";}}s:5:"stats";a:1:{s:5:"pages";i:1;}}""", unicode.Text);
    }

    public static TheoryData<string, int, string> ErrorCases => new()
    {
        { "/?target=ahrefs.com&token=", 400, "from: missing (pages_extended or pages)" },
        { "/?from=backlinks&target=ahrefs.com&token=", 400, "from: 'backlinks' is not served here (pages_extended or pages)" },
        { "/?from=pages_extended&output=csv&token=", 400, "output: 'csv' is not known (json, xml or php)" },
        { "/?from=pages_extended&where=http_code%3D200%2Crefdomain%3E3&token=", 400, "where: unknown column 'refdomain' at 14 (did you mean 'refdomains'?)" },
        { "/?from=pages_extended&where=http_code%3D%22200%22&token=", 400, "where: " },
        { "/?from=pages_extended&where=substring(title%2C%22x)&token=", 400, "where: unterminated string: missing the closing \" at 16" },
        { "/?from=pages_extended&where=%7B%22field%22%3A%22http_code%22&token=", 400, "where: " },
        { "/?from=pages_extended&having=backlink%3E1&token=", 400, "having: unknown column 'backlink' at 0 (did you mean 'backlinks'?)" },
        { "/?from=pages_extended&order_by=backlinks%3Aup&token=", 400, "order_by: unknown direction 'up' (asc or desc) at 10" },
        { "/?from=pages_extended&select=url%2Ctitel&token=", 400, "select: unknown column 'titel' at 4 (did you mean 'title'?)" },
        { "/?from=pages_extended&target=ahrefs.com&mode=domains&token=", 400, "mode: unknown mode 'domains' (exact, domain, subdomains or prefix) at 0 (did you mean 'domain'?)" },
        { "/?from=pages_extended&mode=exact&token=", 400, "mode: mode needs a target at 0" },
        { "/?from=pages_extended&limit=abc&token=", 400, "limit: 'abc' is not a whole number" },
        { "/?from=pages_extended&limit=-5&token=", 400, "limit: must not be negative, got '-5'" },
        { "/?from=pages_extended&offset=1.5&token=", 400, "offset: '1.5' is not a whole number" },
        { "/?from=pages_extended&limit=99999999999999999999&token=", 400, "limit: 99999999999999999999 is too large" },
        { "/?from=pages_extended&where=http_code%3D200&where=http_code%3D404&token=", 400, "where: given 2 times" },
        { "/?from=pages&select=url%2Cbacklinks&token=", 400, "select: column 'backlinks' is only in from=pages_extended at 4" },
        { "/?from=pages&where=refdomains%3E1&token=", 400, "where: column 'refdomains' is only in from=pages_extended at 0" },
        { "/?from=pages&order_by=host&token=", 400, "order_by: column 'host' is only in from=pages_extended at 0" },
        { "/?from=pages_extended&where=%7B%22field%22%3A%22title%22%2C%22is%22%3A%5B%22regex%22%2C%22(%22%5D%7D&token=", 400, "" },
        { "/v2/?from=pages_extended&token=", 404, "not found: /v2/ (ask GET /?from=pages_extended&target=...)" },
        { "/favicon.ico", 404, "not found: /favicon.ico (ask GET /?from=pages_extended&target=...)" },
    };

    [Theory]
    [MemberData(nameof(ErrorCases))]
    public async Task Every_bad_request_gets_its_status_and_one_error_in_the_apis_json_shape(string request, int status, string message)
    {
        var answer = await Server.GetAsync(request);
        Assert.Equal(status, (int)answer.Status);
        Assert.Equal("application/json; charset=utf-8", answer.Header("Content-Type"));
        using var json = JsonDocument.Parse(answer.Text);
        var property = Assert.Single(json.RootElement.EnumerateObject());
        Assert.Equal("error", property.Name);
        string text = property.Value.GetString()!;
        Assert.StartsWith(message, text);
        Assert.DoesNotContain("\n", text);
        Assert.DoesNotContain("   at ", text); // never a stack trace
        Assert.DoesNotContain("Exception", text);
    }

    [Fact]
    public async Task A_regex_duckdb_refuses_is_a_400_naming_the_query()
    {
        var answer = await Server.GetAsync("/?from=pages_extended&token=&where=" + Uri.EscapeDataString("""{"field":"title","is":["regex","("]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        string error = JsonNode.Parse(answer.Text)!["error"]!.GetValue<string>();
        Assert.Matches("^(where|query): ", error);
    }

    [Fact]
    public async Task Errors_come_in_the_shape_output_asks_for()
    {
        var xml = await Server.GetAsync("/?from=pages_extended&where=refdomain%3E3&output=xml&token=");
        Assert.Equal(HttpStatusCode.BadRequest, xml.Status);
        Assert.Equal("text/xml; charset=utf-8", xml.Header("Content-Type"));
        Assert.Equal("""<?xml version="1.0" encoding="utf-8"?><AhrefsApiResponse><error>where: unknown column 'refdomain' at 0 (did you mean 'refdomains'?)</error></AhrefsApiResponse>""" + "\n", xml.Text);

        var php = await Server.GetAsync("/?from=pages_extended&where=refdomain%3E3&output=php&token=");
        Assert.Equal(HttpStatusCode.BadRequest, php.Status);
        Assert.Equal("""a:1:{s:5:"error";s:67:"where: unknown column 'refdomain' at 0 (did you mean 'refdomains'?)";}""", php.Text);
        Assert.Equal("where: unknown column 'refdomain' at 0 (did you mean 'refdomains'?)", (string)PhpUnserializer.Parse(php.Raw)!["error"]!);

        var missing = await Server.GetAsync("/nowhere?output=php");
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.StartsWith("a:1:{s:5:\"error\";", missing.Text);

        // an unknown output cannot choose the shape: JSON
        var unknown = await Server.GetAsync("/?from=pages_extended&output=yaml&token=");
        Assert.Equal("""{"error":"output: 'yaml' is not known (json, xml or php)"}""" + "\n", unknown.Text);
    }

    [Fact]
    public async Task Methods_other_than_get_are_refused_with_405()
    {
        using var response = await Server.Client.PostAsync("/?from=pages_extended&token=", new StringContent(""));
        var answer = await Answer.ReadAsync(response);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, answer.Status);
        Assert.Equal("GET", answer.Header("Allow"));
        Assert.Equal("""{"error":"method POST is not allowed (GET)"}""" + "\n", answer.Text);
    }

    [Fact]
    public async Task Token_is_checked_only_when_the_server_has_one()
    {
        // no --token: old clients send token= with anything in it
        Assert.Equal(HttpStatusCode.OK, (await Server.GetAsync("/?from=pages_extended&token=whatever")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Server.GetAsync("/?from=pages_extended")).Status);

        await using var server = await ServedStore.StartAsync(stores.Example, new ServeOptions { Port = 0, Token = "s3cret" });
        var missing = await server.GetAsync("/?from=pages_extended");
        Assert.Equal(HttpStatusCode.Unauthorized, missing.Status);
        Assert.Equal("""{"error":"token: missing"}""" + "\n", missing.Text);
        var empty = await server.GetAsync("/?from=pages_extended&token=");
        Assert.Equal(HttpStatusCode.Unauthorized, empty.Status);
        Assert.Equal("""{"error":"token: missing"}""" + "\n", empty.Text);
        var wrong = await server.GetAsync("/?from=pages_extended&token=s3cre&output=xml");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
        Assert.Equal("""<?xml version="1.0" encoding="utf-8"?><AhrefsApiResponse><error>token: not valid</error></AhrefsApiResponse>""" + "\n", wrong.Text);
        var twice = await server.GetAsync("/?from=pages_extended&token=s3cret&token=s3cret");
        Assert.Equal(HttpStatusCode.Unauthorized, twice.Status);
        // the token is checked before the parameters: a bad filter without a token is still a 401
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.GetAsync("/?from=nope&where=x")).Status);
        var right = await server.GetAsync(Documented.Replace("token=", "token=s3cret", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, right.Status);
        Assert.Equal(Golden("example.v2.json"), right.Text);
        // unknown paths are 404 whatever the token
        Assert.Equal(HttpStatusCode.NotFound, (await server.GetAsync("/x")).Status);

        Assert.DoesNotContain("s3cret", server.Log.ToString());
        Assert.DoesNotContain("s3cre&", server.Log.ToString());
        Assert.Contains("token=***", server.Log.ToString());
    }

    [Fact]
    public async Task Http_1_0_requests_get_the_answer_without_chunked_encoding()
    {
        var answer = await Server.GetAsync(Documented, request =>
        {
            request.Version = HttpVersion.Version10;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        });
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(Golden("example.v2.json"), answer.Text);
        Assert.Null(answer.Header("Transfer-Encoding"));
        Assert.Contains("HTTP/1.0", Server.Log.Lines().Last(l => l.Contains("limit=1000&offset=0", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_bare_http_1_0_request_without_host_is_answered_and_the_connection_closed()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(Server.Url.Host, Server.Url.Port);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {Documented}&output=xml HTTP/1.0\r\nAccept-Encoding: gzip,deflate\r\n\r\n"));
        var received = new MemoryStream();
        await stream.CopyToAsync(received).WaitAsync(TimeSpan.FromSeconds(30)); // ends because the server closes
        byte[] bytes = received.ToArray();
        int split = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        string head = Encoding.ASCII.GetString(bytes, 0, split);
        byte[] body = bytes[(split + 4)..];
        Assert.StartsWith("HTTP/1.1 200 OK", head);
        Assert.DoesNotContain("Transfer-Encoding", head, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Content-Encoding: gzip", head);
        Assert.Contains("Connection: close", head);
        Assert.Equal(Golden("example.v2.xml"), Encoding.UTF8.GetString(Answer.Decode(body, "gzip")));
    }

    [Theory]
    [InlineData("gzip,deflate", "gzip")]
    [InlineData("gzip, deflate, br", "gzip")]
    [InlineData("deflate", "deflate")]
    [InlineData("gzip;q=0, deflate", "deflate")]
    [InlineData("x-gzip", "gzip")]
    [InlineData("*", "gzip")]
    [InlineData("identity", null)]
    [InlineData("br", null)]
    public async Task Answers_are_compressed_when_the_client_asks(string acceptEncoding, string? expected)
    {
        foreach (var (output, golden) in new[] { ("json", Golden("example.v2.json")), ("xml", Golden("example.v2.xml")), ("php", GoldenPhp) })
        {
            var answer = await Server.GetAsync(Documented + "&output=" + output,
                request => request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding));
            Assert.Equal(HttpStatusCode.OK, answer.Status);
            Assert.Equal(expected, answer.Header("Content-Encoding"));
            Assert.Equal("Accept-Encoding", answer.Header("Vary"));
            if (expected == "gzip")
            {
                Assert.Equal(new byte[] { 0x1f, 0x8b }, answer.Raw[..2]); // decoded by hand below, not by HttpClient
            }
            Assert.Equal(golden, answer.Text); // Answer decodes per Content-Encoding with GZipStream / ZLibStream
        }
    }

    [Fact]
    public async Task Each_request_writes_one_log_line_with_method_query_status_rows_and_time()
    {
        await using var server = await ServedStore.StartAsync(stores.Example);
        await server.GetAsync(Documented);
        await server.GetAsync("/?from=pages_extended&where=nope%3D1&token=");
        await server.GetAsync("/missing");
        var lines = server.Log.Lines();
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z GET /\?from=pages_extended&target=ahrefs\.com&mode=domain&limit=1000&offset=0&token= HTTP/1\.1 status=200 rows=2 ms=\d+\.\d$", lines[0]);
        Assert.Matches(@" GET /\?from=pages_extended&where=nope%3D1&token= HTTP/1\.1 status=400 rows=0 ms=\d+\.\d error: where: unknown column 'nope' at 0", lines[1]);
        Assert.Matches(@" GET /missing HTTP/1\.1 status=404 rows=0 ms=\d+\.\d error: not found: /missing", lines[2]);
    }

    [Fact]
    public async Task A_new_ingest_is_seen_by_the_next_request()
    {
        string store = stores.NewStorePath("growing");
        Assert.Equal(0, await ServeStoresFixture.Cli("ingest", TestData.SamplePath("pages_extended-example.json"), "--store", store));
        await using var server = await ServedStore.StartAsync(store);
        var before = await server.GetAsync("/?from=pages_extended&limit=1&token=");
        Assert.Equal(2, (long)JsonNode.Parse(before.Text)!["stats"]!["pages"]!);
        Assert.Equal(0, await ServeStoresFixture.Cli("ingest", TestData.SamplePath("pages_extended-300-pretty.json"), "--store", store));
        var after = await server.GetAsync("/?from=pages_extended&limit=1&token=");
        Assert.True((long)JsonNode.Parse(after.Text)!["stats"]!["pages"]! > 2);
    }

    [Fact]
    public async Task Pages_serve_on_port_0_prints_its_url_answers_and_stops_on_cancel()
    {
        var stderr = new LogWriter();
        using var cts = new CancellationTokenSource();
        var run = Task.Run(() => PagesCli.RunAsync(["serve", "--store", stores.Example, "--port", "0", "--token", "t0k"],
            new CliContext(new MemoryStream(), stderr, () => new MemoryStream()), cts.Token));
        string? url = null;
        for (int i = 0; i < 300 && url is null; i++)
        {
            var match = System.Text.RegularExpressions.Regex.Match(stderr.ToString(), @"listening on (http://127\.0\.0\.1:\d+/)");
            url = match.Success ? match.Groups[1].Value : null;
            if (url is null)
            {
                Assert.False(run.IsCompleted, stderr.ToString());
                await Task.Delay(50);
            }
        }
        Assert.NotNull(url);
        using (var client = new HttpClient())
        {
            Assert.Equal(Golden("example.v2.json"), await client.GetStringAsync(url + Documented.TrimStart('/').Replace("token=", "token=t0k", StringComparison.Ordinal)));
        }
        await cts.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(" status=200 rows=2 ", stderr.ToString());
        Assert.DoesNotContain("t0k", stderr.ToString());
        Assert.Contains("pages serve: stopping", stderr.ToString());
    }

    [Theory]
    [InlineData("--host", "example.com", "--host 'example.com' is not an IP address")]
    [InlineData("--port", "70000", "--port 70000 is not a TCP port")]
    [InlineData("--max-limit", "0", "--max-limit 0 must be at least 1")]
    [InlineData("--max-queries", "-1", "--max-queries -1 must not be negative")]
    public async Task Bad_serve_options_exit_2_with_one_line(string option, string value, string message)
    {
        var stderr = new StringWriter();
        int exit = await PagesCli.RunAsync(["serve", "--store", stores.Example, option, value], new CliContext(new MemoryStream(), stderr, () => new MemoryStream()));
        Assert.Equal(2, exit);
        Assert.Contains(message, stderr.ToString());
    }

    [Fact]
    public async Task A_taken_port_is_a_runtime_failure_not_a_crash()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var stderr = new StringWriter();
        int exit = await PagesCli.RunAsync(["serve", "--store", stores.Example, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new CliContext(new MemoryStream(), stderr, () => new MemoryStream()));
        Assert.Equal(1, exit);
        Assert.Contains("address already in use", stderr.ToString());
        Assert.DoesNotContain("   at ", stderr.ToString());
    }
}
