using System.Data;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Primitives;
using PagesAnalytics.Cli.Serve;
using PagesAnalytics.Export;
using PagesAnalytics.Query;
using PagesAnalytics.Tests.Support;

namespace PagesAnalytics.Tests.Serve;

/// <summary>The pieces of <c>pages serve</c> on their own: the PHP writer, encoding choice, token masking, the stats cache and its invalidation.</summary>
public sealed class ServePartsTests(ServeStoresFixture stores) : IClassFixture<ServeStoresFixture>
{
    private static string Php(Action<PhpSerializeWriter> write)
    {
        var output = new MemoryStream();
        using (var php = new PhpSerializeWriter(output))
        {
            write(php);
        }
        return Encoding.UTF8.GetString(output.ToArray());
    }

    [Fact]
    public void Php_writer_writes_each_type_as_serialize_does()
    {
        Assert.Equal("i:-42;", Php(p => p.WriteInteger(-42)));
        Assert.Equal("i:9223372036854775807;", Php(p => p.WriteInteger(long.MaxValue)));
        Assert.Equal("d:0.1;", Php(p => p.WriteDouble(0.1)));
        Assert.Equal("d:1E+300;", Php(p => p.WriteDouble(1e300)));
        Assert.Equal("d:NAN;d:INF;d:-INF;", Php(p => { p.WriteDouble(double.NaN); p.WriteDouble(double.PositiveInfinity); p.WriteDouble(double.NegativeInfinity); }));
        Assert.Equal("b:1;b:0;N;", Php(p => { p.WriteBoolean(true); p.WriteBoolean(false); p.WriteNull(); }));
        Assert.Equal("s:0:\"\";", Php(p => p.WriteString("")));
        // lengths are UTF-8 bytes; quotes, backslashes, NUL and newlines go through unescaped
        Assert.Equal("s:5:\"ë€\";", Php(p => p.WriteString("ë€")));
        Assert.Equal("s:4:\"🚀\";", Php(p => p.WriteString("🚀")));
        Assert.Equal("s:7:\"a\"b\\c\0\n\";", Php(p => p.WriteString("a\"b\\c\0\n")));
        Assert.Equal("a:2:{i:0;s:1:\"x\";s:1:\"k\";N;}", Php(p =>
        {
            p.WriteArrayStart(2);
            p.WriteInteger(0);
            p.WriteString("x");
            p.WriteString("k");
            p.WriteNull();
            p.WriteArrayEnd();
        }));
    }

    [Fact]
    public void Php_strings_longer_than_the_buffer_and_many_small_values_come_out_whole()
    {
        string big = string.Concat(Enumerable.Repeat("Zoë–🚀", 40_000)); // ~440 KB of UTF-8, larger than the 64 KB buffer
        var output = new MemoryStream();
        using (var php = new PhpSerializeWriter(output))
        {
            php.WriteArrayStart(3);
            php.WriteInteger(0);
            php.WriteString(big);
            php.WriteInteger(1);
            php.WriteArrayStart(10_000);
            for (int i = 0; i < 10_000; i++)
            {
                php.WriteInteger(i);
                php.WriteString("v" + i);
            }
            php.WriteArrayEnd();
            php.WriteInteger(2);
            php.WriteString(big);
            php.WriteArrayEnd();
        }
        var parsed = PhpUnserializer.Parse(output.ToArray())!.AsArray();
        Assert.Equal(big, (string)parsed[0]!);
        Assert.Equal("v9999", (string)parsed[1]![9999]!);
        Assert.Equal(big, (string)parsed[2]!);
    }

    [Fact]
    public void Php_response_writer_refuses_a_reader_that_disagrees_with_the_count()
    {
        var table = new DataTable();
        table.Columns.Add("url", typeof(string));
        table.Columns.Add("backlinks", typeof(long));
        table.Rows.Add("https://a/", 3L);
        table.Rows.Add("https://b/", DBNull.Value);
        var ok = new MemoryStream();
        Assert.Equal(2, PhpResponseWriter.Write(table.CreateDataReader(), 2, 7, ok));
        Assert.Equal("""a:2:{s:5:"pages";a:2:{i:0;a:2:{s:3:"url";s:10:"https://a/";s:9:"backlinks";i:3;}i:1;a:2:{s:3:"url";s:10:"https://b/";s:9:"backlinks";i:0;}}s:5:"stats";a:1:{s:5:"pages";i:7;}}""",
            Encoding.UTF8.GetString(ok.ToArray()));
        Assert.Throws<InvalidOperationException>(() => PhpResponseWriter.Write(table.CreateDataReader(), 1, 7, new MemoryStream()));
        Assert.Throws<InvalidOperationException>(() => PhpResponseWriter.Write(table.CreateDataReader(), 3, 7, new MemoryStream()));
    }

    [Theory]
    [InlineData(10, 0, 1000L, 10)]
    [InlineData(10, 4, 1000L, 6)]
    [InlineData(10, 4, 3L, 3)]
    [InlineData(10, 20, 3L, 0)]
    [InlineData(10, 0, 0L, 0)]
    [InlineData(10, 2, null, 8)]
    public void Result_rows_are_what_is_left_after_offset_up_to_limit(long stats, long offset, long? limit, long expected)
        => Assert.Equal(expected, PhpResponseWriter.ResultRows(stats, offset, limit));

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("gzip,deflate", "gzip")]
    [InlineData("deflate,gzip;q=0.5", "deflate")]
    [InlineData("deflate;q=0.5,gzip;q=0.5", "gzip")]
    [InlineData("GZIP", "gzip")]
    [InlineData("*;q=0", null)]
    [InlineData("gzip;q=0,*", null)]
    [InlineData("identity;q=1, *;q=0.1", "gzip")]
    [InlineData("gzip;q=abc", null)]
    public void Encoding_follows_accept_encoding_and_its_weights(string? header, string? expected)
        => Assert.Equal(expected, ServeHandler.ChooseEncoding(header is null ? StringValues.Empty : new StringValues(header)));

    [Theory]
    [InlineData(null, "")]
    [InlineData("?from=pages", "?from=pages")]
    [InlineData("?token=abc&from=pages", "?token=***&from=pages")]
    [InlineData("?from=pages&TOKEN=abc", "?from=pages&token=***")]
    [InlineData("?from=pages&token=", "?from=pages&token=")]
    [InlineData("?from=pages&tokens=x", "?from=pages&tokens=x")]
    public void Logs_never_show_a_token(string? query, string expected) => Assert.Equal(expected, ServeHandler.MaskToken(query));

    [Fact]
    public void Stats_cache_keys_on_the_statement_and_every_bound_value_and_forgets_on_a_new_store_state()
    {
        var a = PagesQueryCompiler.Compile(new PagesQueryOptions { Where = "http_code=200", Limit = 1 });
        var b = PagesQueryCompiler.Compile(new PagesQueryOptions { Where = "http_code=200", Limit = 50, Offset = 100, Select = "url" });
        var c = PagesQueryCompiler.Compile(new PagesQueryOptions { Where = "http_code=404" });
        var d = PagesQueryCompiler.Compile(new PagesQueryOptions { Where = "title=\"200\"" });
        Assert.Equal(StatsCache.Key(a), StatsCache.Key(b)); // paging through one filter shares its count
        Assert.NotEqual(StatsCache.Key(a), StatsCache.Key(c));
        Assert.NotEqual(StatsCache.Key(a), StatsCache.Key(d));

        var cache = new StatsCache(2);
        cache.Set(1, "k1", 10);
        cache.Set(1, "k2", 20);
        Assert.True(cache.TryGet(1, "k1", out long count) && count == 10);
        cache.Set(1, "k3", 30); // k2 is the least recently used
        Assert.False(cache.TryGet(1, "k2", out _));
        Assert.True(cache.TryGet(1, "k3", out count) && count == 30);
        Assert.False(cache.TryGet(2, "k1", out _)); // another store state
        cache.Set(2, "k1", 11);
        Assert.False(cache.TryGet(1, "k3", out _));
        Assert.True(cache.TryGet(2, "k1", out count) && count == 11);
        Assert.Null(StatsCache.Key(PagesQueryCompiler.Compile(new PagesQueryOptions { Where = "title=\"" + new string('x', 20_000) + "\"" })));
    }

    [Fact]
    public async Task A_commit_to_a_settled_store_is_seen_at_once_despite_pooled_sessions_and_cached_counts()
    {
        string store = stores.NewStorePath("settled");
        Assert.Equal(0, await ServeStoresFixture.Cli("ingest", TestData.SamplePath("pages_extended-example.json"), "--store", store));
        // as if the last commit were a minute old: sessions are pooled and counts cached from the first request on
        Directory.SetLastWriteTimeUtc(Path.Combine(store, "sources"), DateTime.UtcNow.AddMinutes(-1));
        await using var server = await ServedStore.StartAsync(store);
        for (int i = 0; i < 3; i++)
        {
            var before = await server.GetAsync("/?from=pages_extended&limit=1&select=url&token=");
            Assert.Equal(2, (long)JsonNode.Parse(before.Text)!["stats"]!["pages"]!);
        }
        Assert.Equal(1, server.Server.SessionsOpened);
        Assert.Equal((2L, 1L), server.Server.StatsCacheCounts);

        Assert.Equal(0, await ServeStoresFixture.Cli("ingest", TestData.SamplePath("pages_extended-500-compact.json"), "--store", store));
        var after = await server.GetAsync("/?from=pages_extended&limit=1&select=url&token=");
        Assert.Equal(502, (long)JsonNode.Parse(after.Text)!["stats"]!["pages"]!);
        Assert.Equal(2, server.Server.SessionsOpened);
    }
}
