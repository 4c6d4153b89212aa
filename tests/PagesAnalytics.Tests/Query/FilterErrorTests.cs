using PagesAnalytics.Query;

namespace PagesAnalytics.Tests.Query;

/// <summary>Errors name the clause and the character position, show a caret and suggest the nearest name.</summary>
public class FilterErrorTests
{
    public static TheoryData<string, int, string, string?> V2Errors => new()
    {
        { "title=\"seo\",refdomain>5", 12, "unknown column 'refdomain'", "refdomains" },
        { "titel=\"x\"", 0, "unknown column 'titel'", "title" },
        { "HTTPCODE=200", 0, "unknown column 'HTTPCODE'", "http_code" },
        { "xyz=1", 0, "unknown column 'xyz'", null },
        { "http_code=\"2020-01-01\"", 10, "column 'http_code' is a number", null },
        { "http_code=\"200\"", 10, "column 'http_code' is a number", null },
        { "http_code=true", 10, "column 'http_code' is a number", null },
        { "title=5", 6, "column 'title' is text", null },
        { "title=true", 6, "column 'title' is text", null },
        { "first_seen=2020", 11, "column 'first_seen' is a timestamp", null },
        { "first_seen=\"yesterday\"", 11, "expected a date YYYY-MM-DD", null },
        { "first_seen=\"2020-02-30\"", 11, "not a valid date", null },
        { "first_seen=\"2020-01-01T25:00:00Z\"", 11, "not a valid date-time", null },
        { "first_seen=\"2020-01-01T10:00:00+15:00\"", 11, "not a valid date-time", null },
        { "first_seen=\"9999-12-31\"", 11, "not a valid date", null },
        { "substrng(title,\"x\")", 0, "unknown function 'substrng'", "substring" },
        { "prefix(url,\"x\")", 0, "unknown function 'prefix'", null },
        { "words(title,\"x\")", 0, "unknown function 'words'", "word" },
        { "substring(http_code,\"x\")", 10, "substring applies to text columns; 'http_code' is a number", null },
        { "subdomain(first_seen,\"x\")", 10, "subdomain applies to text columns; 'first_seen' is a timestamp", null },
        { "substring(titl,\"x\")", 10, "unknown column 'titl'", "title" },
        { "word(title,5)", 11, "word needs a quoted string", null },
        { "word(title,\"\")", 11, "word needs a non-empty string", null },
        { "subdomain(url,\"\")", 14, "subdomain needs a non-empty string", null },
        { "subdomain(url \"x\")", 14, "expected ',' after the column of subdomain", null },
        { "word(title,\"x\"", 14, "expected ')' to close word(", null },
        { "word(title,\"x\" x", 15, "expected ')' to close word(", null },
        { "word(\"title\",\"x\")", 5, "expected a column as the first argument of word", null },
        { "http_code=200,", 14, "expected a condition after ','", null },
        { "http_code=200 title=\"x\"", 14, "expected ',' or the end of the filter", null },
        { "http_code=200;", 13, "expected ',' or the end of the filter", null },
        { "http_code 200", 10, "expected an operator", null },
        { "http_code==200", 10, "expected a value", null },
        { "http_code=", 10, "expected a value", null },
        { "http_code=>5", 10, "expected a value", null },
        { "title=\"abc", 6, "unterminated string", null },
        { "title='abc\"", 6, "unterminated string", null },
        { "title=\"abc\\", 6, "unterminated string", null },
        { "title=\"a\\qb\"", 8, "unknown escape '\\q'", null },
        { "title=\"a\\u12\"", 8, "\\u needs four hex digits", null },
        { "http_code=99999999999999999999", 10, "integer 99999999999999999999 is out of range", null },
        { "refdomain_ratio=1e999", 16, "number 1e999 is out of range", null },
        { "http_code=200abc", 10, "malformed number '200abc'", null },
        { "http_code=1.2.3", 10, "malformed number '1.2.3'", null },
        { "http_code=-", 10, "malformed number '-'", null },
        { "http_code=1e", 10, "malformed number '1e'", null },
        { "title=seo", 6, "quote text, e.g. \"seo\"", null },
        { "http_code=null", 10, "null is not a value", null },
        { "", 0, "empty filter", null },
        { "   ", 3, "empty filter", null },
        { ",http_code=200", 0, "expected a column or a function", null },
        { "(http_code=200)", 0, "expected a column or a function", null },
        { "url;DROP TABLE pages=1", 3, "expected an operator", null },
        { "\"url\"=\"x\"", 0, "expected a column or a function", null },
        { "title=\"日本語😀\",nope=1", 14, "unknown column 'nope'", null }, // UTF-16 index: the emoji counts 2
    };

    public static TheoryData<string, string, string, string?> V3Errors => new()
    {
        // input, marker (position = first index of marker), reason fragment, suggestion
        { """{"field":"refdomain","is":["eq",5]}""", "\"refdomain\"", "unknown column 'refdomain'", "refdomains" },
        { """{"field":"http_code","is":["eq","2020-01-01"]}""", "\"2020-01-01\"", "column 'http_code' is a number", null },
        { """{"field":"title","is":["eq",5]}""", "5]", "column 'title' is text", null },
        { """{"field":"first_seen","is":["gt",2020]}""", "2020", "column 'first_seen' is a timestamp", null },
        { """{"field":"first_seen","is":["gt","soon"]}""", "\"soon\"", "expected a date YYYY-MM-DD", null },
        { """{"field":"http_code","is":["eqq",200]}""", "\"eqq\"", "unknown operator 'eqq'", "eq" },
        { """{"field":"http_code","is":["gtee",200]}""", "\"gtee\"", "unknown operator 'gtee'", "gte" },
        { """{"field":"title","is":["isubstrin","x"]}""", "\"isubstrin\"", "unknown operator 'isubstrin'", "isubstring" },
        { """{"field":"title","is":["phrase_match","x"]}""", "\"phrase_match\"", "operator 'phrase_match' is not supported", null },
        { """{"field":"title","is":"emptyy"}""", "\"emptyy\"", "unknown operator 'emptyy'", "empty" },
        { """{"field":"title","is":"eq"}""", "\"eq\"", "\"eq\" needs a value", null },
        { """{"field":"title","is":["eq"]}""", "\"eq\"", "\"eq\" needs a value", null },
        { """{"field":"title","is":["eq","a","b"]}""", "\"b\"", "\"eq\" takes one value", null },
        { """{"field":"title","is":["empty",true]}""", "true", "\"empty\" takes no value", null },
        { """{"field":"title","is":["eq",null]}""", "null", "null is not a value", null },
        { """{"field":"title","is":["eq",["x"]]}""", "[\"x\"]", "expected a string, number or boolean value", null },
        { """{"field":"title","is":[200,"eq"]}""", "[200", "\"is\" takes [operator, value]", null },
        { """{"field":"title","is":[]}""", "[]", "\"is\" takes [operator, value]", null },
        { """{"field":"http_code","is":["substring","x"]}""", "\"http_code\"", "substring applies to text columns", null },
        { """{"field":"title","is":["prefix",5]}""", "5", "prefix needs a quoted string", null },
        { """{"field":"http_code","is":["eq",99999999999999999999]}""", "999", "integer 99999999999999999999 is out of range", null },
        { """{"feild":"url","is":["eq","x"]}""", "\"feild\"", "unknown key 'feild'", "field" },
        { """{"field":"url","iss":["eq","x"]}""", "\"iss\"", "unknown key 'iss'", "is" },
        { """{"field":"url"}""", "{", "missing \"is\"", null },
        { """{"is":["eq","x"]}""", "{", "missing \"field\"", null },
        { """{}""", "{", "empty object", null },
        { """{"field":5,"is":"empty"}""", "5", "\"field\" takes a column name as a string", null },
        { """{"field":"url","field":"title","is":"empty"}""", "\"field\":\"title\"", "key 'field' is given twice", null },
        { """{"and":[]}""", "[]", "\"and\" needs at least one filter", null },
        { """{"or":{"field":"url","is":"empty"}}""", "{\"field\"", "\"or\" takes an array of filters", null },
        { """{"not":[{"field":"url","is":"empty"}]}""", "[", "expected an object", null },
        { """{"and":[{"field":"url","is":"empty"},5]}""", "5]", "expected an object", null },
        { """{"field":"url","is":["eq","x"],"and":[]}""", "\"and\"", "'and' cannot be combined", null },
        { """{"and":[],"field":"url"}""", "\"field\"", "'field' cannot be combined with 'and'", null },
        { """{"field":"title","modifier":"uppercase","is":["eq","X"]}""", "\"modifier\"", "'modifier' is not supported", null },
        { """{"field":"title","list_is":{"any":["eq","x"]}}""", "\"list_is\"", "'list_is' is not supported", null },
        { """{"field":"url","is":["eq",'x']}""", "'x'", "invalid JSON", null },
        { """{"field":"url","is":["eq","x"]} {}""", "{}", "invalid JSON", null },
        { """{"and":[{"field":"title","is":["eq","日本語😀"]},{"field":"nope","is":"empty"}]}""", "\"nope\"", "unknown column 'nope'", null },
        { "{\n  \"and\": [\n    {\"field\": \"http_code\", \"is\": [\"eq\", 200]},\n    {\"field\": \"titel\", \"is\": \"empty\"}\n  ]\n}", "\"titel\"", "unknown column 'titel'", "title" },
        { "{\n  \"and\": [\n    {\"field\": \"htt", "$end", "invalid JSON", null },
    };

    [Theory]
    [MemberData(nameof(V2Errors))]
    public void V2_error_names_position_reason_and_suggestion(string filter, int position, string reason, string? suggestion)
    {
        var error = Assert.Throws<FilterException>(() => FilterParser.ParseV2(filter));
        Assert.Equal("where", error.Clause);
        Assert.Equal(filter, error.Input);
        Assert.Equal(position, error.Position);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Equal(suggestion, error.Suggestion);
        Assert.StartsWith($"where: {error.Reason} at {position}", error.Message, StringComparison.Ordinal);
        Assert.Equal(error.Summary + "\n" + error.Caret, error.Message);
    }

    [Theory]
    [MemberData(nameof(V3Errors))]
    public void V3_error_points_at_the_offending_json_element(string json, string marker, string reason, string? suggestion)
    {
        var error = Assert.Throws<FilterException>(() => FilterParser.ParseV3(json, "having"));
        Assert.Equal("having", error.Clause);
        Assert.Equal(marker == "$end" ? json.Length : json.IndexOf(marker, StringComparison.Ordinal), error.Position);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Equal(suggestion, error.Suggestion);
        Assert.StartsWith("having: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Message_reads_like_the_design_example_with_a_caret_line()
    {
        var error = Assert.Throws<FilterException>(() => FilterParser.Parse("title=\"seo\",refdomain>5"));
        Assert.Equal("where: unknown column 'refdomain' at 12 (did you mean 'refdomains'?)", error.Summary);
        Assert.Equal("title=\"seo\",refdomain>5\n            ^", error.Caret);
        Assert.Equal("where: unknown column 'refdomain' at 12 (did you mean 'refdomains'?)\ntitle=\"seo\",refdomain>5\n            ^", error.Message);
        Assert.IsAssignableFrom<PagesException>(error);
    }

    [Fact]
    public void Caret_at_end_of_input_sits_after_the_last_character()
    {
        var error = Assert.Throws<FilterException>(() => FilterParser.Parse("http_code="));
        Assert.Equal("http_code=\n          ^", error.Caret);
    }

    [Fact]
    public void Caret_shows_only_the_line_of_a_multi_line_v3_filter()
    {
        string json = "{\n  \"and\": [\n    {\"field\": \"titel\", \"is\": \"empty\"}\n  ]\n}";
        var error = Assert.Throws<FilterException>(() => FilterParser.Parse(json));
        Assert.Equal("    {\"field\": \"titel\", \"is\": \"empty\"}\n              ^", error.Caret);
    }

    [Fact]
    public void Caret_windows_a_long_line_and_blanks_control_characters()
    {
        string filter = "title=\"" + new string('x', 200) + "\",\tnope=1";
        var error = Assert.Throws<FilterException>(() => FilterParser.Parse(filter));
        Assert.Equal(210, error.Position);
        var lines = error.Caret.Split('\n');
        Assert.StartsWith("...", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain('\t', lines[0]);
        int caret = lines[1].IndexOf('^', StringComparison.Ordinal);
        Assert.Equal("nope=1", lines[0][caret..]);
        Assert.True(lines[0].Length <= 110);
    }

    [Fact]
    public void Having_clause_and_custom_columns_appear_in_errors()
    {
        var columns = new FilterColumns([("host", FilterType.Text), ("pages", FilterType.Integer), ("share", FilterType.Decimal)]);
        var error = Assert.Throws<FilterException>(() => FilterParser.Parse("page>10", "having", columns));
        Assert.Equal("having: unknown column 'page' at 0 (did you mean 'pages'?)", error.Summary);
        Assert.Throws<FilterException>(() => FilterParser.Parse("http_code=200", "having", columns));
    }

    [Fact]
    public void Boolean_columns_take_true_and_false_with_equality_only()
    {
        var columns = new FilterColumns([("is_ok", FilterType.Boolean), ("n", FilterType.Integer)]);
        var node = Assert.IsType<ComparisonFilter>(FilterParser.Parse("is_ok=TRUE", "where", columns));
        Assert.Equal(true, node.Value.Value);
        Assert.Equal("\"is_ok\" = $1::BOOLEAN", FilterCompiler.Compile(node).Sql);
        Assert.Equal("\"is_ok\" <> false::BOOLEAN", FilterCompiler.ToInlineSql(FilterParser.Parse("is_ok<>false", "where", columns), SqlDialect.DuckDb));
        var order = Assert.Throws<FilterException>(() => FilterParser.Parse("is_ok>true", "where", columns));
        Assert.Equal(5, order.Position);
        var text = Assert.Throws<FilterException>(() => FilterParser.Parse("is_ok=\"true\"", "where", columns));
        Assert.Contains("is a boolean", text.Reason, StringComparison.Ordinal);
        Assert.Throws<FilterException>(() => FilterParser.Parse("is_ok=1", "where", columns));
        Assert.Throws<FilterException>(() => FilterParser.Parse("n=true", "where", columns));
    }
}
