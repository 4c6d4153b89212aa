using System.Text;
using System.Text.Json;
using PagesAnalytics.Query;

namespace PagesAnalytics.Tests.Query;

/// <summary>
/// Hostile text in value positions matches literally (bound parameters, and correctly escaped literals for --emit-sql);
/// in identifier positions it fails to parse. The table is unchanged afterwards and nothing was attached or written.
/// </summary>
public class FilterInjectionTests : IDisposable
{
    private readonly PagesTestTable _table = new();
    private readonly string _leak = Path.Combine(Path.GetTempPath(), $"pages-injection-{Guid.NewGuid():N}");

    public static TheoryData<string> HostileValues => new()
    {
        "'; DROP TABLE pages; --",
        "x'); DROP TABLE pages; --",
        "\"; DROP TABLE pages; --",
        "' OR '1'='1",
        "' OR 1=1 --",
        "/* comment */ OR 1=1",
        "*/ OR 1=1 /*",
        "'); ATTACH 'evil.db' AS evil; --",
        "'; ATTACH ':memory:' AS evil; SELECT '",
        "'; COPY pages TO '{leak}.csv'; --",
        "'); COPY (SELECT 1) TO '{leak}.parquet' (FORMAT parquet); --",
        "\\'; DROP TABLE pages; --",
        "\\\\'; DROP TABLE pages; --",
        "$1",
        "? OR 1=1",
        "$$ OR 1=1 $$",
        "E'\\x27'",
        "'||(SELECT 'a')||'",
        "a\0'; DROP TABLE pages; --",
        "x'); DROP TABLE pages; --\0",
        "%",
        "_",
        "\n; DROP TABLE pages;\n",
        "日本語'; DROP TABLE pages; --😀",
    };

    public void Dispose()
    {
        _table.Dispose();
        foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(_leak) + "*"))
        {
            File.Delete(file);
        }
        GC.SuppressFinalize(this);
    }

    [Theory]
    [MemberData(nameof(HostileValues))]
    public void Hostile_values_match_literally_and_change_nothing(string template)
    {
        string hostile = template.Replace("{leak}", _leak, StringComparison.Ordinal);
        string before = _table.Fingerprint();
        int[] Where(Func<string, bool> predicate) =>
            [.. PagesTestTable.Rows.Where(r => r.Title is not null && predicate(r.Title)).Select(r => r.Id)];

        var expectations = new List<(FilterNode Node, int[] Expected)>
        {
            (FilterParser.ParseV2($"title={V2Quote(hostile)}"), Where(t => t == hostile)),
            (FilterParser.ParseV2($"title<>{V2Quote(hostile)}"), Where(t => t != hostile)),
            (FilterParser.ParseV2($"substring(title,{V2Quote(hostile)})"), Where(t => t.Contains(hostile, StringComparison.Ordinal))),
            (FilterParser.ParseV2($"word(url,{V2Quote(hostile)})"), []),
            (FilterParser.ParseV2($"subdomain(url,{V2Quote(hostile)})"), []),
            (FilterParser.ParseV3(V3(hostile, "eq")), Where(t => t == hostile)),
            (FilterParser.ParseV3(V3(hostile, "substring")), Where(t => t.Contains(hostile, StringComparison.Ordinal))),
            (FilterParser.ParseV3(V3(hostile, "prefix")), Where(t => t.StartsWith(hostile, StringComparison.Ordinal))),
            (FilterParser.ParseV3(V3(hostile, "suffix")), Where(t => t.EndsWith(hostile, StringComparison.Ordinal))),
        };
        foreach (var (node, expected) in expectations)
        {
            Assert.Equal(expected, _table.Match(FilterCompiler.Compile(node)));
            Assert.Equal(expected, _table.MatchInline(FilterCompiler.ToInlineSql(node, SqlDialect.DuckDb)));
        }
        foreach (var mode in new[] { TargetMode.Exact, TargetMode.Domain, TargetMode.Subdomains, TargetMode.Prefix })
        {
            var target = "example.invalid" + hostile;
            Assert.Empty(_table.Match(TargetMatcher.Compile(target, mode)));
            Assert.Empty(_table.MatchInline(TargetMatcher.ToInlineSql(target, mode, SqlDialect.DuckDb)));
        }

        Assert.Equal(before, _table.Fingerprint());
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(_leak) + "*"));
    }

    [Fact]
    public void The_hostile_title_in_the_table_is_found_by_equality()
    {
        string title = "x'); DROP TABLE pages; --";
        Assert.Equal([18], _table.Match(FilterCompiler.Compile(FilterParser.Parse($"title={V2Quote(title)}"))));
        Assert.Equal([18], _table.MatchInline(FilterCompiler.ToInlineSql(FilterParser.Parse(V3(title, "eq")), SqlDialect.DuckDb)));
    }

    [Theory]
    [InlineData("title; DROP TABLE pages; --=\"x\"")]
    [InlineData("title=\"x\"; DROP TABLE pages; --")]
    [InlineData("title=\"x\" OR 1=1")]
    [InlineData("title=\"x\"/* */")]
    [InlineData("title/**/=\"x\"")]
    [InlineData("\"title\"=\"x\"")]
    [InlineData("title--=\"x\"")]
    [InlineData("DROP TABLE pages")]
    [InlineData("ATTACH 'evil.db'")]
    [InlineData("COPY pages TO 'leak.csv'")]
    [InlineData("substring(title) OR 1=1 --,\"x\")")]
    [InlineData("substring(title,\"x\") OR 1=1")]
    [InlineData("substring(title,x); DROP TABLE pages; --)")]
    [InlineData("http_code=1;DROP TABLE pages")]
    [InlineData("http_code=1 OR 1=1")]
    [InlineData("http_code=0x10")]
    [InlineData("http_code=(SELECT 1)")]
    [InlineData("""{"field":"title\"; DROP TABLE pages; --","is":["eq","x"]}""")]
    [InlineData("""{"field":"title","is":["eq","x"],"sql":"DROP TABLE pages"}""")]
    [InlineData("""{"field":"title","is":["eq; DROP TABLE pages","x"]}""")]
    [InlineData("""{"field":"title","is":["eq","x"]}; DROP TABLE pages; --""")]
    [InlineData("""{"field":"http_code","is":["eq","1; DROP TABLE pages"]}""")]
    public void Hostile_text_outside_values_fails_to_parse(string filter)
    {
        string before = _table.Fingerprint();
        Assert.Throws<FilterException>(() => FilterParser.Parse(filter));
        Assert.Equal(before, _table.Fingerprint());
    }

    [Theory]
    [InlineData("url; DROP TABLE pages")]
    [InlineData("url:desc; DROP TABLE pages")]
    [InlineData("url:desc,title/*")]
    [InlineData("url DESC")]
    [InlineData("(SELECT 1)")]
    public void Hostile_order_by_fails_to_parse(string text)
        => Assert.Throws<FilterException>(() => OrderByParser.Parse(text, FilterColumns.Pages));

    [Theory]
    [InlineData("url FROM pages; DROP TABLE pages; --")]
    [InlineData("url, title)")]
    [InlineData("*; DROP TABLE pages")]
    [InlineData("count(*)")]
    [InlineData("\"url\"")]
    public void Hostile_select_fails_to_parse(string text)
        => Assert.Throws<FilterException>(() => SelectParser.Parse(text, FilterColumns.Pages));

    [Theory]
    [InlineData("exact; DROP TABLE pages")]
    [InlineData("prefix' OR '1'='1")]
    public void Hostile_mode_fails_to_parse(string mode)
        => Assert.Throws<FilterException>(() => TargetMatcher.Compile("ahrefs.com", mode));

    [Fact]
    public void A_hand_built_column_name_is_quoted_as_one_identifier()
    {
        string before = _table.Fingerprint();
        var column = new FilterColumn("title\" = title; DROP TABLE pages; --", FilterType.Text);
        var node = new ComparisonFilter(column, ComparisonOperator.Equal, new FilterLiteral(FilterLiteralKind.Text, "x", 0), 0);
        var fragment = FilterCompiler.Compile(node);
        Assert.StartsWith("\"title\"\" = title; DROP TABLE pages; --\" = $1", fragment.Sql, StringComparison.Ordinal);
        // DuckDB looks for a column of that odd name and finds none.
        Assert.ThrowsAny<Exception>(() => _table.Match(fragment));
        Assert.Equal(before, _table.Fingerprint());
    }

    /// <summary>A v2 quoted string holding exactly <paramref name="value"/>.</summary>
    internal static string V2Quote(string value)
    {
        var text = new StringBuilder("\"");
        foreach (char c in value)
        {
            text.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\0' => "\\0",
                _ => c.ToString(),
            });
        }
        return text.Append('"').ToString();
    }

    private static string V3(string value, string op)
        => $$"""{"field":"title","is":["{{op}}",{{JsonSerializer.Serialize(value)}}]}""";
}
