using PagesAnalytics.Query;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Tests.Query;

public class ColumnListParserTests
{
    [Fact]
    public void Order_by_reads_columns_with_optional_directions()
    {
        var order = OrderByParser.Parse(" backlinks:desc , URL, first_seen : ASC,host:Desc", FilterColumns.Pages);
        Assert.Equal([("backlinks", true), ("url", false), ("first_seen", false), ("host", true)], order);
    }

    [Theory]
    [InlineData("backlink:desc", 0, "unknown column 'backlink'", "backlinks")]
    [InlineData("url:up", 4, "unknown direction 'up'", null)]
    [InlineData("url:dsc", 4, "unknown direction 'dsc'", "desc")]
    [InlineData("url: ", 4, "expected asc or desc", null)]
    [InlineData("url,url:desc", 4, "column 'url' is listed twice", null)]
    [InlineData("url,,title", 4, "empty item", null)]
    [InlineData("url,", 4, "empty item", null)]
    [InlineData("", 0, "empty list", null)]
    [InlineData(":desc", 0, "expected a column before ':'", null)]
    [InlineData("url:desc:asc", 4, "unknown direction 'desc:asc'", null)]
    public void Order_by_errors_are_positioned(string text, int position, string reason, string? suggestion)
    {
        var error = Assert.Throws<FilterException>(() => OrderByParser.Parse(text, FilterColumns.Pages));
        Assert.Equal("order_by", error.Clause);
        Assert.Equal(position, error.Position);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Equal(suggestion, error.Suggestion);
    }

    [Fact]
    public void Select_star_is_the_api_columns_in_documented_order()
    {
        var star = SelectParser.Parse("*", FilterColumns.Pages);
        Assert.Equal(PagesSchema.Columns.Take(PagesSchema.ApiColumnCount).Select(c => c.Name), star);
        Assert.Equal(20, SelectParser.Parse(" * , host", FilterColumns.Pages).Count);
        Assert.Equal(["url", "title", "refdomain_ratio"], SelectParser.Parse("url, TITLE ,refdomain_ratio", FilterColumns.Pages));
    }

    [Fact]
    public void Select_star_of_custom_columns_is_all_of_them()
    {
        var columns = new FilterColumns([("host", FilterType.Text), ("pages", FilterType.Integer)]);
        Assert.Equal(["host", "pages"], SelectParser.Parse("*", columns));
    }

    [Theory]
    [InlineData("url,tittle", 4, "unknown column 'tittle'", "title")]
    [InlineData("*,url", 2, "column 'url' is listed twice", null)]
    [InlineData("url, url", 5, "column 'url' is listed twice", null)]
    [InlineData(" ", 1, "empty list", null)]
    [InlineData("url,", 4, "empty item", null)]
    public void Select_errors_are_positioned(string text, int position, string reason, string? suggestion)
    {
        var error = Assert.Throws<FilterException>(() => SelectParser.Parse(text, FilterColumns.Pages));
        Assert.Equal("select", error.Clause);
        Assert.Equal(position, error.Position);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Equal(suggestion, error.Suggestion);
    }

    [Theory]
    [InlineData("exact", TargetMode.Exact)]
    [InlineData(" Subdomains ", TargetMode.Subdomains)]
    [InlineData("DOMAIN", TargetMode.Domain)]
    [InlineData("prefix", TargetMode.Prefix)]
    public void Modes_are_read_ignoring_case(string text, TargetMode mode)
        => Assert.Equal(mode, TargetMatcher.ParseMode(text));

    [Theory]
    [InlineData("subdomain", "subdomains")]
    [InlineData("exakt", "exact")]
    [InlineData("all", null)]
    public void Unknown_modes_suggest_the_nearest(string text, string? suggestion)
    {
        var error = Assert.Throws<FilterException>(() => TargetMatcher.ParseMode(text));
        Assert.Equal("mode", error.Clause);
        Assert.Equal(suggestion, error.Suggestion);
    }

    [Theory]
    [InlineData("", 0, "empty target")]
    [InlineData("   ", 3, "empty target")]
    [InlineData("https://", 8, "empty target")]
    [InlineData("ftp://ahrefs.com", 3, "only http:// and https://")]
    [InlineData("https://ftp://x", 11, "only http:// and https://")]
    public void Bad_targets_are_positioned(string target, int position, string reason)
    {
        var error = Assert.Throws<FilterException>(() => TargetMatcher.Compile(target, "exact"));
        Assert.Equal("target", error.Clause);
        Assert.Equal(position, error.Position);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_target_without_a_host_fails_for_host_modes()
    {
        var error = Assert.Throws<FilterException>(() => TargetMatcher.Compile("/blog", "domain"));
        Assert.Contains("no host", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://www.Ahrefs.com/blog?x=1", "www.Ahrefs.com/blog?x=1", "www.ahrefs.com")]
    [InlineData(" HTTP://user:pw@Ahrefs.com:8080/x ", "user:pw@Ahrefs.com:8080/x", "ahrefs.com")]
    [InlineData("ahrefs.com#top", "ahrefs.com#top", "ahrefs.com")]
    public void Targets_lose_their_protocol_and_hosts_are_lowercased(string target, string normalized, string host)
    {
        Assert.Equal(normalized, TargetMatcher.Normalize(target));
        Assert.Equal(host, TargetMatcher.HostOf(TargetMatcher.Normalize(target)));
    }

    [Fact]
    public void Target_sql_shapes()
    {
        var exact = TargetMatcher.Compile("ahrefs.com/blog", "exact", 4);
        Assert.Equal("\"url\" IN ($4::VARCHAR, $5::VARCHAR, $6::VARCHAR, $7::VARCHAR)", exact.Sql);
        Assert.Equal<object?>(["http://ahrefs.com/blog", "https://ahrefs.com/blog", "http://ahrefs.com/blog/", "https://ahrefs.com/blog/"], exact.Parameters);
        Assert.Equal("\"host\" = $1::VARCHAR", TargetMatcher.Compile("https://Ahrefs.com/x", "domain").Sql);
        Assert.Equal<object?>(["ahrefs.com"], TargetMatcher.Compile("https://Ahrefs.com/x", "domain").Parameters);
        Assert.Equal("ends_with('.' || \"host\", $1::VARCHAR)", TargetMatcher.Compile("ahrefs.com", "subdomains").Sql);
        Assert.Equal<object?>([".ahrefs.com"], TargetMatcher.Compile("ahrefs.com", "subdomains").Parameters);
        var prefix = TargetMatcher.Compile("ahrefs.com/blog/", "prefix");
        Assert.Equal("(starts_with(\"url\", $1::VARCHAR) OR starts_with(\"url\", $2::VARCHAR))", prefix.Sql);
        Assert.Equal<object?>(["http://ahrefs.com/blog/", "https://ahrefs.com/blog/"], prefix.Parameters);
    }
}
