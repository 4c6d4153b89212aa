using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using PagesAnalytics.Query;

namespace PagesAnalytics.Cli.Serve;

/// <summary>The answer formats of the v2 endpoint (<c>output=</c>).</summary>
internal enum V2Output
{
    Json,
    Xml,
    Php,
}

/// <summary>A request the endpoint refuses, with its HTTP status and the one-line message for the API's error shape.</summary>
internal sealed class V2RequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>A validated v2 request: the table, the query it means, the answer format and the limit actually applied.</summary>
internal sealed record V2Request(string From, PagesQueryOptions Query, V2Output Output, bool LimitCapped);

/// <summary>
/// Reads the v2 query string: <c>from target mode select where having order_by limit offset output token</c>. Empty values
/// count as absent (old clients send every key); unknown keys are ignored; a key given twice is an error.
/// </summary>
internal static class V2RequestParser
{
    public const string PagesExtended = "pages_extended";

    /// <summary><c>from=pages</c>: the API's lighter table, without the backlink counts.</summary>
    public const string Pages = "pages";

    private static readonly string[] Known = ["from", "target", "mode", "select", "where", "having", "order_by", "limit", "offset", "output", "token"];

    /// <summary>
    /// The columns of <c>from=pages</c>: the 12 API columns before <c>backlinks</c> (url .. content_encoding). The
    /// backlink counts (backlinks .. refips), <c>host</c> and the ratios exist only in <c>from=pages_extended</c>.
    /// </summary>
    public static FilterColumns PagesColumns { get; } = BuildPagesColumns();

    /// <summary>The answer format named by <c>output</c>, or null when it is missing, empty or not known.</summary>
    public static V2Output? TryReadOutput(IQueryCollection query)
    {
        var values = query["output"];
        if (values.Count != 1)
        {
            return values.Count == 0 ? V2Output.Json : null;
        }
        return ReadOutput(values[0]);
    }

    /// <summary>Validates the request and compiles nothing yet; errors are <see cref="V2RequestException"/> (400) or <see cref="FilterException"/>.</summary>
    public static V2Request Parse(IQueryCollection query, long maxLimit)
    {
        foreach (var key in Known)
        {
            if (query.TryGetValue(key, out var values) && values.Count > 1)
            {
                throw new V2RequestException(400, $"{key}: given {values.Count} times");
            }
        }
        string? outputText = Value(query, "output");
        var output = outputText is null ? V2Output.Json
            : ReadOutput(outputText) ?? throw new V2RequestException(400, $"output: '{outputText}' is not known (json, xml or php)");

        string from = Value(query, "from") ?? throw new V2RequestException(400, "from: missing (pages_extended or pages)");
        if (from != PagesExtended && from != Pages)
        {
            throw new V2RequestException(400, $"from: '{from}' is not served here (pages_extended or pages)");
        }

        long? requested = ReadCount(query, "limit");
        long offset = ReadCount(query, "offset") ?? 0;
        long limit = requested ?? PagesQueryOptions.DefaultLimit;
        bool capped = limit > maxLimit;
        limit = Math.Min(limit, maxLimit);

        string? select = Value(query, "select");
        string? where = Value(query, "where");
        string? having = Value(query, "having");
        string? orderBy = Value(query, "order_by");
        string? target = Value(query, "target");
        string? mode = Value(query, "mode");
        if (from == Pages)
        {
            select = RestrictToPages(select, where, having, orderBy);
        }
        var options = new PagesQueryOptions
        {
            Select = select,
            Where = where,
            Having = having,
            OrderBy = orderBy,
            Limit = limit,
            Offset = offset,
            Target = target,
            Mode = mode,
        };
        return new V2Request(from, options, output, capped);
    }

    private static V2Output? ReadOutput(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "json" => V2Output.Json,
        "xml" => V2Output.Xml,
        "php" => V2Output.Php,
        _ => null,
    };

    /// <summary>The trimmed value, or null when the key is absent or blank.</summary>
    private static string? Value(IQueryCollection query, string key)
    {
        StringValues values = query[key];
        if (values.Count == 0)
        {
            return null;
        }
        string? value = values[0];
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    private static long? ReadCount(IQueryCollection query, string key)
    {
        string? text = Value(query, key);
        if (text is null)
        {
            return null;
        }
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
        {
            string reason = text.StartsWith('-') ? $"must not be negative, got '{text}'"
                : text.All(char.IsAsciiDigit) ? $"{text} is too large"
                : $"'{text}' is not a whole number";
            throw new V2RequestException(400, key + ": " + reason);
        }
        return value;
    }

    /// <summary>
    /// Checks every clause against the 12 columns of <c>from=pages</c> and returns the select list to run (the 12
    /// columns when none was given). The query itself is then compiled against the full column list, as for pages_extended.
    /// </summary>
    private static string RestrictToPages(string? select, string? where, string? having, string? orderBy)
    {
        var columns = PagesColumns;
        try
        {
            var selected = SelectParser.Parse(select ?? "*", columns);
            if (where is not null)
            {
                FilterParser.Parse(where, "where", columns);
            }
            if (having is not null)
            {
                FilterParser.Parse(having, "having", columns);
            }
            if (orderBy is not null)
            {
                OrderByParser.Parse(orderBy, columns);
            }
            return string.Join(",", selected);
        }
        catch (FilterException error) when (ExtendedOnly(error) is { } name)
        {
            throw new FilterException(error.Clause, error.Input, error.Position, $"column '{name}' is only in from=pages_extended");
        }
    }

    /// <summary>The column an "unknown column" error names when pages_extended has it; null otherwise.</summary>
    private static string? ExtendedOnly(FilterException error)
    {
        const string Prefix = "unknown column '";
        if (!error.Reason.StartsWith(Prefix, StringComparison.Ordinal) || !error.Reason.EndsWith('\''))
        {
            return null;
        }
        string name = error.Reason[Prefix.Length..^1];
        return FilterColumns.Pages.Find(name)?.Name;
    }

    private static FilterColumns BuildPagesColumns()
    {
        var columns = new List<FilterColumn>();
        foreach (var column in FilterColumns.Pages.Columns)
        {
            if (column.Name == "backlinks")
            {
                break;
            }
            columns.Add(column);
        }
        return new FilterColumns(columns);
    }
}
