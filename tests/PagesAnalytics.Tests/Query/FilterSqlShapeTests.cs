using PagesAnalytics.Query;
using PagesAnalytics.Schema;
using PagesAnalytics.Store;

namespace PagesAnalytics.Tests.Query;

/// <summary>The SQL each construct compiles to, parameter numbering, and the column whitelist.</summary>
public class FilterSqlShapeTests
{
    private static SqlFragment Compile(string filter, int first = 1) => FilterCompiler.Compile(FilterParser.Parse(filter), first);

    [Theory]
    [InlineData("http_code=200", "\"http_code\" = $1::BIGINT")]
    [InlineData("http_code<>200", "\"http_code\" <> $1::BIGINT")]
    [InlineData("http_code<200", "\"http_code\" < $1::BIGINT")]
    [InlineData("http_code<=200", "\"http_code\" <= $1::BIGINT")]
    [InlineData("http_code>200", "\"http_code\" > $1::BIGINT")]
    [InlineData("http_code>=200", "\"http_code\" >= $1::BIGINT")]
    [InlineData("http_code>=200.5", "\"http_code\" >= $1::DOUBLE")]
    [InlineData("title=\"x\"", "\"title\" = $1::VARCHAR")]
    [InlineData("title=\"a\\0b\"", "\"title\" = ($1::VARCHAR || chr(0) || $2::VARCHAR)")]
    [InlineData("first_seen=\"2013-11-20T09:46:29Z\"", "\"first_seen\" = $1::TIMESTAMPTZ")]
    [InlineData("first_seen=\"2013-11-20\"", "(\"first_seen\" >= $1::TIMESTAMPTZ AND \"first_seen\" < $2::TIMESTAMPTZ)")]
    [InlineData("first_seen<>\"2013-11-20\"", "(\"first_seen\" < $1::TIMESTAMPTZ OR \"first_seen\" >= $2::TIMESTAMPTZ)")]
    [InlineData("first_seen<\"2013-11-20\"", "\"first_seen\" < $1::TIMESTAMPTZ")]
    [InlineData("first_seen<=\"2013-11-20\"", "\"first_seen\" < $1::TIMESTAMPTZ")]
    [InlineData("first_seen>\"2013-11-20\"", "\"first_seen\" >= $1::TIMESTAMPTZ")]
    [InlineData("first_seen>=\"2013-11-20\"", "\"first_seen\" >= $1::TIMESTAMPTZ")]
    [InlineData("substring(title,\"x\")", "contains(\"title\", $1::VARCHAR)")]
    [InlineData("word(title,\"x\")", "regexp_matches(lower(\"title\"), '(^|[^\\pL\\pN\\pM])' || regexp_escape(lower($1::VARCHAR)) || '([^\\pL\\pN\\pM]|$)')")]
    [InlineData("subdomain(url,\"x\")", "ends_with('.' || lower(regexp_extract(\"url\", '^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^@/?#]*@)?([^:/?#]+)', 1)), '.' || lower($1::VARCHAR))")]
    [InlineData("""{"field":"title","is":["isubstring","x"]}""", "contains(lower(\"title\"), lower($1::VARCHAR))")]
    [InlineData("""{"field":"title","is":["prefix","x"]}""", "starts_with(\"title\", $1::VARCHAR)")]
    [InlineData("""{"field":"title","is":["suffix","x"]}""", "ends_with(\"title\", $1::VARCHAR)")]
    [InlineData("""{"field":"title","is":["regex","x"]}""", "regexp_matches(\"title\", $1::VARCHAR)")]
    [InlineData("""{"field":"title","is":"empty"}""", "(\"title\" IS NULL OR \"title\" = '')")]
    [InlineData("""{"field":"size","is":"empty"}""", "(\"size\" IS NULL)")]
    [InlineData("""{"field":"size","is":"is_null"}""", "(\"size\" IS NULL)")]
    [InlineData("""{"not":{"field":"size","is":["eq",1]}}""", "((\"size\" = $1::BIGINT) IS NOT TRUE)")]
    [InlineData("""{"or":[{"field":"size","is":["eq",1]},{"field":"size","is":["eq",2]}]}""", "(\"size\" = $1::BIGINT OR \"size\" = $2::BIGINT)")]
    [InlineData("size=1,size=2", "(\"size\" = $1::BIGINT AND \"size\" = $2::BIGINT)")]
    public void Each_construct_compiles_to_its_documented_shape(string filter, string sql)
        => Assert.Equal(sql, Compile(filter).Sql);

    [Fact]
    public void Parameters_are_typed_values_numbered_from_the_offset()
    {
        var fragment = Compile("http_code=200,substring(title,\"x\"),refdomain_ratio<0.5,last_visited=\"2013-11-20\"", 7);
        Assert.Equal(
            "(\"http_code\" = $7::BIGINT AND contains(\"title\", $8::VARCHAR) AND \"refdomain_ratio\" < $9::DOUBLE AND (\"last_visited\" >= $10::TIMESTAMPTZ AND \"last_visited\" < $11::TIMESTAMPTZ))",
            fragment.Sql);
        Assert.Equal(7, fragment.FirstParameterIndex);
        Assert.Equal(12, fragment.NextParameterIndex);
        Assert.Equal<object?>(
            [200L, "x", 0.5, new DateTimeOffset(2013, 11, 20, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2013, 11, 21, 0, 0, 0, TimeSpan.Zero)],
            fragment.Parameters);
        Assert.Equal(fragment.Sql, fragment.ToString());
    }

    [Fact]
    public void Timestamps_with_offsets_become_utc_instants_truncated_to_microseconds()
    {
        var node = Assert.IsType<ComparisonFilter>(FilterParser.Parse("first_seen>\"2020-01-01T10:00:00.123456789+02:00\""));
        Assert.Equal(FilterLiteralKind.Timestamp, node.Value.Kind);
        var instant = (DateTimeOffset)node.Value.Value;
        Assert.Equal(TimeSpan.Zero, instant.Offset);
        Assert.Equal(new DateTimeOffset(2020, 1, 1, 8, 0, 0, TimeSpan.Zero).AddTicks(1_234_560), instant);
        Assert.Equal("\"first_seen\" > '2020-01-01 08:00:00.123456+00'::TIMESTAMPTZ", FilterCompiler.ToInlineSql(node, SqlDialect.DuckDb));
    }

    [Fact]
    public void Inline_sql_escapes_quotes_and_keeps_backslashes()
    {
        Assert.Equal("\"title\" = 'it''s \\ ok'::VARCHAR", FilterCompiler.ToInlineSql(FilterParser.Parse("title=\"it's \\\\ ok\""), SqlDialect.DuckDb));
        Assert.Equal("\"http_code\" > (-5)::BIGINT", FilterCompiler.ToInlineSql(FilterParser.Parse("http_code>-5"), SqlDialect.DuckDb));
    }

    [Theory]
    [InlineData(SqlDialect.Spark, "`http_code` = CAST(200 AS BIGINT)")]
    [InlineData(SqlDialect.Trino, "\"http_code\" = CAST(200 AS BIGINT)")]
    public void Other_dialects_render_their_own_identifiers_and_literals(SqlDialect dialect, string expected)
        => Assert.Equal(expected, FilterCompiler.ToInlineSql(FilterParser.Parse("http_code=200"), dialect));

    [Fact]
    public void Auto_detection_reads_json_objects_as_v3_and_anything_else_as_v2()
    {
        Assert.IsType<ComparisonFilter>(FilterParser.Parse("  \n {\"field\":\"http_code\",\"is\":[\"eq\",200]}"));
        Assert.IsType<ComparisonFilter>(FilterParser.Parse("http_code=200"));
        // v2 text that merely contains braces stays v2 (and fails there).
        var error = Assert.Throws<FilterException>(() => FilterParser.Parse("x{\"field\":1}"));
        Assert.Contains("unknown column 'x'", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void V2_positions_are_kept_in_the_tree()
    {
        var and = Assert.IsType<AndFilter>(FilterParser.Parse("http_code=200, word(title,\"seo\")"));
        Assert.Equal(0, and.Operands[0].Position);
        var word = Assert.IsType<FunctionFilter>(and.Operands[1]);
        Assert.Equal(15, word.Position);
        Assert.Equal(FilterFunction.Word, word.Function);
        Assert.Equal("title", word.Column.Name);
        Assert.Equal(26, word.Argument!.Position);
    }

    [Fact]
    public void Compiler_rejects_hand_built_nodes_whose_literal_does_not_fit_the_column()
    {
        var column = new FilterColumn("http_code", FilterType.Integer);
        var node = new ComparisonFilter(column, ComparisonOperator.Equal, new FilterLiteral(FilterLiteralKind.Text, "200", 0), 0);
        Assert.Throws<ArgumentException>(() => FilterCompiler.Compile(node));
        var function = new FunctionFilter(column, FilterFunction.Substring, new FilterLiteral(FilterLiteralKind.Text, "2", 0), 0);
        Assert.Throws<ArgumentException>(() => FilterCompiler.Compile(function));
        Assert.Throws<ArgumentException>(() => FilterCompiler.Compile(new AndFilter([], 0)));
    }

    [Fact]
    public void Pages_columns_are_the_schema_plus_the_derived_view_columns()
    {
        var names = FilterColumns.Pages.Columns.Select(c => c.Name).ToList();
        var expected = PagesSchema.Columns.Select(c => c.Name).Concat(QuerySession.DerivedColumns.Select(d => d.Name)).ToList();
        Assert.Equal(expected, names);
        Assert.Equal(PagesSchema.Columns.Take(PagesSchema.ApiColumnCount).Select(c => c.Name), FilterColumns.Pages.Star.Select(c => c.Name));
        Assert.Equal(FilterType.Integer, FilterColumns.Pages.Find("size")!.Type);
        Assert.Equal(FilterType.Timestamp, FilterColumns.Pages.Find("last_visited")!.Type);
        Assert.Equal(FilterType.Text, FilterColumns.Pages.Find("HOST")!.Type);
        Assert.Equal(FilterType.Decimal, FilterColumns.Pages.Find("ips_per_refdomain")!.Type);
        Assert.Null(FilterColumns.Pages.Find("nope"));
    }

    [Fact]
    public void Subdomain_extracts_the_host_like_the_pages_view_does()
    {
        var host = QuerySession.DerivedColumns.Single(d => d.Name == "host").Sql;
        Assert.Contains(FilterCompiler.HostPattern, host, StringComparison.Ordinal);
    }

    [Fact]
    public void Column_lists_reject_duplicates_and_empty_lists()
    {
        Assert.Throws<ArgumentException>(() => new FilterColumns([("a", FilterType.Text), ("A", FilterType.Integer)]));
        Assert.Throws<ArgumentException>(() => new FilterColumns(Array.Empty<(string, FilterType)>()));
        Assert.Throws<ArgumentException>(() => new FilterColumns([(" ", FilterType.Text)]));
    }

    [Theory]
    [InlineData("refdomain", "refdomains")]
    [InlineData("titel", "title")]
    [InlineData("http-code", "http_code")]
    [InlineData("lastvisited", "last_visited")]
    [InlineData("ratio", null)]
    [InlineData("links", "links_internal")]
    [InlineData("x", null)]
    [InlineData("URLS", "url")]
    public void Suggestions_pick_the_nearest_column(string name, string? expected)
        => Assert.Equal(expected, FilterColumns.Pages.Suggest(name));
}
