using BenchmarkDotNet.Attributes;
using PagesAnalytics.Query;

namespace PagesAnalytics.Benchmarks;

/// <summary>
/// Turning a <c>where</c> filter into parameterized DuckDB SQL: <see cref="FilterParser.Parse"/> alone (the baseline:
/// reading and type-checking the text) and followed by <see cref="FilterCompiler.Compile"/>, for a one-condition v2
/// filter, a v2 filter using every kind of condition, and a nested v3 JSON filter. Runs once per query, so what
/// matters is that it stays in microseconds and allocates little.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public class FilterBenchmarks
{
    private static readonly Dictionary<string, string> Filters = new()
    {
        ["v2-one"] = "http_code=200",
        ["v2-all-kinds"] = "http_code=200,refdomains>=5,backlinks<>0,substring(title,\"seo\"),word(title,\"Guide\"),"
            + "subdomain(url,\"blog.example.com\"),first_seen>=\"2020-01-01\",last_visited<\"2024-06-30T12:00:00Z\"",
        ["v3-nested"] = """
            {"and":[{"field":"http_code","is":["eq",200]},
                    {"or":[{"field":"refdomains","is":["gte",5]},{"field":"backlinks","is":["gt",100]}]},
                    {"not":{"field":"title","is":["isubstring","login"]}},
                    {"field":"url","is":["prefix","https://example.com/blog/"]},
                    {"field":"first_seen","is":["gte","2020-01-01"]}]}
            """,
    };

    private string _text = "";

    [Params("v2-one", "v2-all-kinds", "v3-nested")]
    public string Filter { get; set; } = "v2-one";

    [GlobalSetup]
    public void Setup()
    {
        _text = Filters[Filter];
        // Fail here, not in a measured iteration, if a filter stops being valid.
        _ = FilterCompiler.Compile(FilterParser.Parse(_text));
    }

    [Benchmark(Baseline = true)]
    public FilterNode Parse() => FilterParser.Parse(_text);

    [Benchmark]
    public int ParseAndCompile()
    {
        var sql = FilterCompiler.Compile(FilterParser.Parse(_text));
        return sql.Sql.Length + sql.Parameters.Count;
    }
}
