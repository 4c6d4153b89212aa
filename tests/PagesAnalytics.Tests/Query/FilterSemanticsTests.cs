using PagesAnalytics.Query;

namespace PagesAnalytics.Tests.Query;

/// <summary>
/// The semantics table: every operator and function in both syntaxes, executed by DuckDB over <see cref="PagesTestTable"/>,
/// once with bound parameters and once with the inlined SQL of --emit-sql.
/// </summary>
public class FilterSemanticsTests(PagesTestTable table) : IClassFixture<PagesTestTable>
{
    private static readonly int[] Ok200 = [1, 4, 5, 6, 8, 12, 13, 14, 15, 16, 17, 18];
    private static readonly int[] NonNullTitles = [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18];
    private static readonly int[] AhrefsHosts = [1, 2, 4, 5, 11, 15, 16, 17];

    public static TheoryData<string, int[]> V2Cases => new()
    {
        // comparisons on integers, decimals against integers, BIGINT beyond 2^31
        { "http_code=200", Ok200 },
        { "http_code<>200", [2, 3, 7, 10, 11] },
        { "http_code!=200", [2, 3, 7, 10, 11] },
        { "http_code>=400", [3, 7, 11] },
        { "http_code>404", [7] },
        { "http_code<301", [1, 4, 5, 6, 8, 10, 12, 13, 14, 15, 16, 17, 18] },
        { "http_code<=301", [1, 2, 4, 5, 6, 8, 10, 12, 13, 14, 15, 16, 17, 18] },
        { "http_code>300.5", [2, 3, 7, 11] },
        { "http_code<200.5,http_code>199.9", Ok200 },
        { "http_code=200.0", Ok200 },
        { "http_code=-1", [] },
        { "HTTP_CODE=404", [3] },
        { "size>2147483648", [4] },
        { "size=3000000000", [4] },
        { "size=3e9", [4] },
        { "refdomain_ratio=0.1", [1, 2] },
        { "refdomain_ratio>0.4,refdomain_ratio<0.5", [4] },
        { "refdomain_ratio>=1", [5, 6] },
        { "refdomain_ratio<1e0", [1, 2, 4] },
        // text: case-sensitive, byte order, escapes, unicode, NUL, NULL
        { "title=\"The Ahrefs Blog\"", [2] },
        { "title=\"the ahrefs blog\"", [] },
        { "title<>\"login\"", [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15, 16, 17, 18] },
        { "title=\"\"", [10] },
        { "title<\"B\"", [1, 10] },
        { "title='He said \"hi\" – it\\'s O\\'Reilly \\\\ back'", [8] },
        { "title=\"He said \\\"hi\\\" – it's O'Reilly \\\\ back\"", [8] },
        { "title=\"日本語 テキスト\"", [6] },
        { "title=\"I ❤ emoji😀fun\"", [7] },
        { "title=\"\\u00dcber Stra\\u00dfe \\u00dcBER\"", [5] },
        { "title=\"a\\0b\"", [14] },
        { "url=\"https:\\/\\/ahrefs.com\\/\"", [1] },
        // timestamps: a date is a whole UTC day; date-times are instants; offsets convert to UTC
        { "last_visited=\"2013-11-20\"", [2, 4] },
        { "last_visited<>\"2013-11-20\"", [1, 3, 5] },
        { "last_visited<\"2013-11-20\"", [] },
        { "last_visited<=\"2013-11-20\"", [2, 4] },
        { "last_visited>\"2013-11-20\"", [1, 3, 5] },
        { "last_visited>=\"2013-11-20\"", [1, 2, 3, 4, 5] },
        { "last_visited=\"2013-11-20T00:00:00Z\"", [4] },
        { "last_visited=\"2013-11-20 23:59:59.999999\"", [2] },
        { "last_visited>\"2013-11-20T23:59:59.999999Z\"", [1, 3, 5] },
        { "last_visited=\"2013-11-21T02:00:00+02:00\"", [3] },
        { "last_visited=\"2013-11-20T19:00-05:00\"", [3] },
        { "first_seen>=\"2013-11-20T09:46:29Z\",first_seen<\"2014-01-01\"", [1] },
        { "first_seen<\"2013-11-20\"", [4] },
        { "first_seen>\"2015-06-15T11:59\"", [3, 5] },
        // substring: case-sensitive contains, no wildcards
        { "substring(title,\"Ahrefs\")", [1, 2, 3] },
        { "substring(title,\"ahrefs\")", [] },
        { "substring(url,\"ahrefs.com/blog\")", [2, 4, 16] },
        { "substring(title,\"é\")", [4] },
        { "substring(title,\"😀\")", [7] },
        { "substring(title,\"\\\"hi\\\"\")", [8] },
        { "substring(title,\"\\\\\")", [8] },
        { "substring(title,\"\")", NonNullTitles },
        { "substring(title,\"%\")", [] },
        { "substring(title,\"_\")", [13] },
        { "substring(title,\"\\0\")", [14] },
        { "SubString(title,\"Blog\")", [2, 16] },
        // word: whole word, case-insensitive, words split on anything but letters/digits/marks
        { "word(title,\"seo\")", [1, 4, 13] },
        { "word(title,\"tools\")", [1, 13] },
        { "word(title,\"seotools\")", [13] },
        { "word(title,\"too\")", [] },
        { "word(title,\"café\")", [4] },
        { "word(title,\"CAFÉ\")", [4] },
        { "word(title,\"caf\")", [] },
        { "word(title,\"über\")", [5] },
        { "word(title,\"STRASSE\")", [] },
        { "word(title,\"straße\")", [5] },
        { "word(title,\"日本語\")", [6] },
        { "word(title,\"emoji\")", [7] },
        { "word(title,\"fun\")", [7] },
        { "word(title,\"o'reilly\")", [8] },
        { "word(title,\"\\\\\")", [8] },
        { "word(title,\"basics: a\")", [4] },
        { "word(title,\"a\")", [4, 14] }, // NUL separates words too
        { "word(url,\"blog\")", [2, 4, 16] },
        { "word(title,\".*\")", [] },
        // subdomain: host is d or ends with ".d", ignoring case; not a mere suffix
        { "subdomain(url,\"ahrefs.com\")", AhrefsHosts },
        { "subdomain(url,\"AHREFS.COM\")", AhrefsHosts },
        { "subdomain(url,\"www.ahrefs.com\")", [2] },
        { "subdomain(url,\"deep.ahrefs.com\")", [5] },
        { "subdomain(url,\"hrefs.com\")", [] },
        { "subdomain(url,\"com\")", [1, 2, 3, 4, 5, 11, 15, 16, 17] },
        { "subdomain(redirect_url,\"ahrefs.com\")", [2, 5] },
        { "subdomain(host,\"ahrefs.com\")", AhrefsHosts },
        { "subdomain(url,\"example.org\")", [6, 7, 8, 9, 10, 13, 14, 18] },
        // comma = AND, blanks anywhere
        { "http_code=200,subdomain(url,\"ahrefs.com\"),substring(url,\"blog\")", [4, 16] },
        { "  http_code = 200 ,  word( title , \"seo\" )  ", [1, 4, 13] },
    };

    public static TheoryData<string, int[]> V3Cases => new()
    {
        { """{"field":"http_code","is":["eq",200]}""", Ok200 },
        { """{"field":"http_code","is":["neq",200]}""", [2, 3, 7, 10, 11] },
        { """{"field":"http_code","is":["gt",404]}""", [7] },
        { """{"field":"http_code","is":["gte",404]}""", [3, 7] },
        { """{"field":"http_code","is":["lt",200]}""", [10] },
        { """{"field":"http_code","is":["lte",200]}""", [1, 4, 5, 6, 8, 10, 12, 13, 14, 15, 16, 17, 18] },
        { """{"field":"http_code","is":["eq",200.0]}""", Ok200 },
        { """{"field":"http_code","is":["lt",200.5]}""", [1, 4, 5, 6, 8, 10, 12, 13, 14, 15, 16, 17, 18] },
        { """{"field":"Http_Code","is":["eq",404]}""", [3] },
        { """{"field":"size","is":["gt",2147483648]}""", [4] },
        { """{"field":"refdomain_ratio","is":["gt",0.4]}""", [4, 5, 6] },
        { """{"field":"refdomain_ratio","is":["lt",-1e-7]}""", [] },
        { """{"field":"refdomain_ratio","is":["gt",1e-300]}""", [1, 2, 4, 5, 6] },
        { """{"field":"refdomain_ratio","is":["lt",1E300]}""", [1, 2, 4, 5, 6] },
        { """{"field":"backlinks","is":["gte",-9223372036854775808]}""", [1, 2, 3, 4, 5, 6] },
        // NULL: neq is false on NULL, not(eq) is true on NULL
        { """{"not":{"field":"http_code","is":["eq",200]}}""", [2, 3, 7, 9, 10, 11] },
        { """{"not":{"field":"title","is":["eq","login"]}}""", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18] },
        { """{"field":"title","is":["neq","login"]}""", [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15, 16, 17, 18] },
        { """{"not":{"not":{"field":"http_code","is":["eq",200]}}}""", Ok200 },
        // and / or / not
        { """{"and":[{"field":"http_code","is":["eq",200]},{"field":"url","is":["prefix","https://ahrefs.com"]}]}""", [1, 4, 12, 16] },
        { """{"or":[{"field":"http_code","is":["eq",404]},{"field":"http_code","is":["eq",500]}]}""", [3, 7] },
        { """{"or":[{"field":"http_code","is":["eq",404]},{"not":{"field":"title","is":"is_null"}}]}""", NonNullTitles },
        { """{"and":[{"field":"http_code","is":["eq",200]}]}""", Ok200 },
        { """{"and":[{"or":[{"field":"title","is":["isubstring","blog"]},{"field":"title","is":["eq","login"]}]},{"not":{"field":"url","is":["prefix","http://"]}}]}""", [16] },
        // text functions
        { """{"field":"title","is":["substring","Ahrefs"]}""", [1, 2, 3] },
        { """{"field":"title","is":["substring","ahrefs"]}""", [] },
        { """{"field":"title","is":["isubstring","ahrefs"]}""", [1, 2, 3] },
        { """{"field":"title","is":["isubstring","ÜBER"]}""", [5] },
        { """{"field":"title","is":["isubstring","über straße"]}""", [5] },
        { """{"field":"title","is":["isubstring","CAFÉ"]}""", [4] },
        { """{"field":"title","is":["isubstring","😀FUN"]}""", [7] },
        { """{"field":"url","is":["prefix","http://"]}""", [2, 11, 15] },
        { """{"field":"url","is":["prefix","HTTP://"]}""", [] },
        { """{"field":"url","is":["suffix","/blog"]}""", [16] },
        { """{"field":"url","is":["suffix","/"]}""", [1, 2, 12] },
        { """{"field":"url","is":["suffix","日本語"]}""", [6] },
        { """{"field":"title","is":["regex","^S.O"]}""", [4] },
        { """{"field":"title","is":["regex","(?i)^seo"]}""", [4, 13] },
        { """{"field":"title","is":["regex","\\\\"]}""", [8] },
        { """{"field":"title","is":["regex","Reilly \\\\ back$"]}""", [8] },
        { """{"field":"url","is":["regex","\\.org/[^/]+$"]}""", [6, 7, 8, 9, 10, 13, 14, 18] },
        // empty and is_null
        { """{"field":"title","is":"empty"}""", [9, 10] },
        { """{"field":"title","is":["empty"]}""", [9, 10] },
        { """{"field":"http_code","is":"empty"}""", [9] },
        { """{"field":"first_seen","is":"empty"}""", [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18] },
        { """{"field":"redirect_url","is":"empty"}""", [1, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18] },
        { """{"field":"title","is":"is_null"}""", [9] },
        { """{"field":"title","is":["is_null"]}""", [9] },
        { """{"not":{"field":"title","is":"empty"}}""", [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 16, 17, 18] },
        // JSON escapes and unicode
        { """{"field":"title","is":["eq","a\u0000b"]}""", [14] },
        { """{"field":"title","is":["eq","He said \"hi\" \u2013 it's O'Reilly \\ back"]}""", [8] },
        { """{"field":"title","is":["eq","I ❤ emoji\ud83d\ude00fun"]}""", [7] },
        { """{"field":"title","is":["eq","日本語 テキスト"]}""", [6] },
        // timestamps
        { """{"field":"last_visited","is":["eq","2013-11-20"]}""", [2, 4] },
        { """{"field":"last_visited","is":["neq","2013-11-20"]}""", [1, 3, 5] },
        { """{"field":"last_visited","is":["lte","2013-11-20"]}""", [2, 4] },
        { """{"field":"last_visited","is":["gt","2013-11-20"]}""", [1, 3, 5] },
        { """{"field":"last_visited","is":["gte","2013-11-20T23:59:59.999999Z"]}""", [1, 2, 3, 5] },
        { """{"field":"last_visited","is":["lt","2013-11-20T12:00:00Z"]}""", [4] },
        // comments and trailing commas are tolerated, whitespace anywhere
        { "{\n  // pages that answered 200\n  \"and\": [\n    {\"field\": \"http_code\", \"is\": [\"eq\", 200]},\n    {\"field\": \"title\", \"is\": [\"isubstring\", \"blog\"]},\n  ]\n}", [16] },
    };

    public static TheoryData<string, string, int[]> TargetCases => new()
    {
        { "ahrefs.com", "exact", [1, 15] },
        { "ahrefs.com/", "exact", [1, 15] },
        { "https://ahrefs.com/", "exact", [1, 15] },
        { "HTTPS://ahrefs.com", "exact", [1, 15] },
        { "  http://ahrefs.com  ", "exact", [1, 15] },
        { "ahrefs.com/blog", "exact", [16] },
        { "www.ahrefs.com/blog/", "exact", [2] },
        { "https://www.ahrefs.com/blog", "exact", [2] },
        { "Ahrefs.com/Case", "exact", [17] },
        { "ahrefs.com/case", "exact", [] },
        { "example.org/日本語", "exact", [6] },
        { "ahrefs.com", "domain", [1, 4, 11, 15, 16, 17] },
        { "AHREFS.com/some/path", "domain", [1, 4, 11, 15, 16, 17] },
        { "http://www.ahrefs.com", "domain", [2] },
        { "https://www.ahrefs.com/", "DOMAIN", [2] },
        { "notahrefs.com", "domain", [3] },
        { "ahrefs.com", "subdomains", AhrefsHosts },
        { "https://ahrefs.com/blog", "subdomains", AhrefsHosts },
        { "deep.ahrefs.com", "subdomains", [5] },
        { "hrefs.com", "subdomains", [] },
        { "ahrefs.com.evil.net", "subdomains", [12] },
        { "ahrefs.com/blog", "prefix", [4, 16] },
        { "https://ahrefs.com/blog", "prefix", [4, 16] },
        { "ahrefs.com", "prefix", [1, 4, 12, 15, 16] },
        { "http://www.ahrefs.com/", "prefix", [2] },
        { "example.org/日本", "prefix", [6] },
        { "ahrefs.com'; DROP TABLE pages; --", "prefix", [] },
    };

    [Theory]
    [MemberData(nameof(V2Cases))]
    public void V2_filter_matches_the_expected_rows(string filter, int[] expected)
    {
        var node = FilterParser.ParseV2(filter);
        Assert.Equal(expected, table.Match(FilterCompiler.Compile(node)));
        Assert.Equal(expected, table.MatchInline(FilterCompiler.ToInlineSql(node, SqlDialect.DuckDb)));
        Assert.Equal(expected, table.Match(FilterCompiler.Compile(FilterParser.Parse(filter), 1)));
    }

    [Theory]
    [MemberData(nameof(V3Cases))]
    public void V3_filter_matches_the_expected_rows(string filter, int[] expected)
    {
        var node = FilterParser.ParseV3(filter);
        Assert.Equal(expected, table.Match(FilterCompiler.Compile(node)));
        Assert.Equal(expected, table.MatchInline(FilterCompiler.ToInlineSql(node, SqlDialect.DuckDb)));
        Assert.Equal(expected, table.Match(FilterCompiler.Compile(FilterParser.Parse(filter))));
    }

    [Theory]
    [MemberData(nameof(TargetCases))]
    public void Target_mode_matches_the_expected_rows(string target, string mode, int[] expected)
    {
        Assert.Equal(expected, table.Match(TargetMatcher.Compile(target, mode)));
        Assert.Equal(expected, table.MatchInline(TargetMatcher.ToInlineSql(target, TargetMatcher.ParseMode(mode), SqlDialect.DuckDb)));
    }

    [Theory]
    [InlineData("http_code=200", """{"field":"http_code","is":["eq",200]}""")]
    [InlineData("http_code<>200", """{"field":"http_code","is":["neq",200]}""")]
    [InlineData("http_code<404", """{"field":"http_code","is":["lt",404]}""")]
    [InlineData("http_code<=404", """{"field":"http_code","is":["lte",404]}""")]
    [InlineData("http_code>301", """{"field":"http_code","is":["gt",301]}""")]
    [InlineData("http_code>=301", """{"field":"http_code","is":["gte",301]}""")]
    [InlineData("substring(title,\"Ahrefs\")", """{"field":"title","is":["substring","Ahrefs"]}""")]
    [InlineData("last_visited=\"2013-11-20\"", """{"field":"last_visited","is":["eq","2013-11-20"]}""")]
    [InlineData("title=\"a\\0b\",http_code=200", """{"and":[{"field":"title","is":["eq","a\u0000b"]},{"field":"http_code","is":["eq",200]}]}""")]
    public void Both_syntaxes_compile_to_the_same_sql(string v2, string v3)
    {
        var a = FilterCompiler.Compile(FilterParser.Parse(v2));
        var b = FilterCompiler.Compile(FilterParser.Parse(v3));
        Assert.Equal(a.Sql, b.Sql);
        Assert.Equal(a.Parameters, b.Parameters);
    }

    [Theory]
    [InlineData("Asia/Tokyo")]
    [InlineData("America/Los_Angeles")]
    public void Dates_mean_utc_days_whatever_the_session_time_zone(string zone)
    {
        using var local = new PagesTestTable();
        local.Execute($"SET TimeZone = '{zone}'");
        Assert.Equal([2, 4], local.Match(FilterCompiler.Compile(FilterParser.Parse("last_visited=\"2013-11-20\""))));
        Assert.Equal([1, 3, 5], local.Match(FilterCompiler.Compile(FilterParser.Parse("last_visited>\"2013-11-20\""))));
        Assert.Equal([4], local.Match(FilterCompiler.Compile(FilterParser.Parse("last_visited=\"2013-11-20T00:00:00Z\""))));
        Assert.Equal([2, 4], local.MatchInline(FilterCompiler.ToInlineSql(FilterParser.Parse("last_visited=\"2013-11-20\""), SqlDialect.DuckDb)));
    }

    [Fact]
    public void Where_and_target_fragments_combine_with_consecutive_parameter_numbers()
    {
        var where = FilterCompiler.Compile(FilterParser.Parse("http_code=200,substring(url,\"blog\")"));
        var target = TargetMatcher.Compile("ahrefs.com", "subdomains", where.NextParameterIndex);
        var having = FilterCompiler.Compile(FilterParser.Parse("""{"field":"title","is":["isubstring","NO SLASH"]}""", "having"), target.NextParameterIndex);
        Assert.Equal(1, where.FirstParameterIndex);
        Assert.Equal(3, target.FirstParameterIndex);
        Assert.Equal(4, having.FirstParameterIndex);
        Assert.Equal(5, having.NextParameterIndex);

        using var command = table.Connection.CreateCommand();
        command.CommandText = $"SELECT row_ordinal FROM pages WHERE {where.Sql} AND {target.Sql} AND {having.Sql} ORDER BY 1";
        where.BindTo(command);
        target.BindTo(command);
        having.BindTo(command);
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(16L, reader.GetInt64(0));
        Assert.False(reader.Read());
    }

    [Fact]
    public void BindTo_refuses_parameters_out_of_order()
    {
        var first = FilterCompiler.Compile(FilterParser.Parse("http_code=200"));
        var second = FilterCompiler.Compile(FilterParser.Parse("http_code=200"), first.NextParameterIndex);
        using var command = table.Connection.CreateCommand();
        Assert.Throws<InvalidOperationException>(() => second.BindTo(command));
    }
}
