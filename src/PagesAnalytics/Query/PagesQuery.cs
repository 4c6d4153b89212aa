using System.Data.Common;
using System.Globalization;
using System.Text;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Query;

/// <summary>A v2-style request over the store: the API's select/where/having/order_by/limit/offset/target/mode.</summary>
public sealed record PagesQueryOptions
{
    /// <summary>The API's default <c>limit</c>.</summary>
    public const long DefaultLimit = 1000;

    /// <summary><c>*</c> (the 19 API columns) or a comma-separated column list; null means <c>*</c>.</summary>
    public string? Select { get; init; }

    /// <summary>Filter applied to rows before de-duplication (v2 or v3 syntax).</summary>
    public string? Where { get; init; }

    /// <summary>Filter applied after de-duplication, on the per-url result (v2 or v3 syntax).</summary>
    public string? Having { get; init; }

    /// <summary><c>col[:asc|:desc],...</c>; null keeps the API's order (source, then position in it).</summary>
    public string? OrderBy { get; init; }

    /// <summary>Rows to return; null returns all.</summary>
    public long? Limit { get; init; } = DefaultLimit;

    /// <summary>Rows to skip.</summary>
    public long Offset { get; init; }

    /// <summary>Target of the request, without protocol.</summary>
    public string? Target { get; init; }

    /// <summary>exact, domain, subdomains or prefix (default domain when a target is given).</summary>
    public string? Mode { get; init; }

    /// <summary>Every stored row instead of one row per url from its newest snapshot.</summary>
    public bool AllSnapshots { get; init; }
}

/// <summary>A compiled request: the SQL, its bound parameters and the API row cost.</summary>
public sealed class CompiledPagesQuery
{
    internal CompiledPagesQuery(string sql, string countSql, IReadOnlyList<object?> parameters, IReadOnlyList<FilterColumn> columns,
        bool hasWhere, bool hasHaving, bool hasOffset)
    {
        Sql = sql;
        CountSql = countSql;
        Parameters = parameters;
        Columns = columns;
        HasWhere = hasWhere;
        HasHaving = hasHaving;
        HasOffset = hasOffset;
    }

    /// <summary>The statement returning the rows, with <c>$n</c> placeholders.</summary>
    public string Sql { get; }

    /// <summary>The statement counting the matching rows before limit and offset (the API's <c>stats.pages</c>).</summary>
    public string CountSql { get; }

    /// <summary>Values of <c>$1</c>.. for both statements.</summary>
    public IReadOnlyList<object?> Parameters { get; }

    /// <summary>The selected columns, in output order.</summary>
    public IReadOnlyList<FilterColumn> Columns { get; }

    /// <summary>True when the request has a where filter.</summary>
    public bool HasWhere { get; }

    /// <summary>True when the request has a having filter.</summary>
    public bool HasHaving { get; }

    /// <summary>True when the request has a non-zero offset.</summary>
    public bool HasOffset { get; }

    /// <summary>API rows the same request would have cost: 1 + result rows + 5 per where, having and offset.</summary>
    public long Cost(long resultRows) => 1 + resultRows + (HasWhere ? 5 : 0) + (HasHaving ? 5 : 0) + (HasOffset ? 5 : 0);

    /// <summary>Creates a command for <paramref name="sql"/> on the connection with every parameter bound.</summary>
    public DbCommand CreateCommand(DbConnection connection, string sql) => DuckDbCommands.Create(connection, sql, Parameters);
}

/// <summary>Compiles <see cref="PagesQueryOptions"/> to parameterized DuckDB SQL over the store's views.</summary>
public static class PagesQueryCompiler
{
    /// <summary>
    /// Builds the statement. <c>where</c> and the target filter rows; unless <see cref="PagesQueryOptions.AllSnapshots"/>,
    /// rows are then reduced to one per url (newest snapshot, ties to the later source); <c>having</c> filters that result;
    /// then order, offset and limit. Errors are <see cref="FilterException"/>s naming the clause and position.
    /// </summary>
    public static CompiledPagesQuery Compile(PagesQueryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Limit is < 0)
        {
            throw new FilterException("limit", options.Limit.Value.ToString(CultureInfo.InvariantCulture), 0, "limit must not be negative");
        }
        if (options.Offset < 0)
        {
            throw new FilterException("offset", options.Offset.ToString(CultureInfo.InvariantCulture), 0, "offset must not be negative");
        }
        var columns = FilterColumns.Pages;
        var selected = SelectParser.Parse(string.IsNullOrWhiteSpace(options.Select) ? "*" : options.Select, columns);
        var order = string.IsNullOrWhiteSpace(options.OrderBy) ? [] : OrderByParser.Parse(options.OrderBy, columns);

        var matched = CompileMatchedRows(options.Where, options.Target, options.Mode, options.AllSnapshots);
        var parameters = new List<object?>(matched.Parameters);
        bool hasWhere = !string.IsNullOrWhiteSpace(options.Where);
        bool hasHaving = !string.IsNullOrWhiteSpace(options.Having);
        string? having = null;
        if (hasHaving)
        {
            var compiled = FilterCompiler.Compile(FilterParser.Parse(options.Having!, "having", columns), matched.NextParameterIndex);
            having = compiled.Sql;
            parameters.AddRange(compiled.Parameters);
        }
        string result = $"WITH matched AS ({matched.Sql}) SELECT * FROM matched" + (having is null ? "" : " WHERE " + having);

        var select = new StringBuilder();
        foreach (var column in selected)
        {
            select.Append(select.Length == 0 ? "" : ", ").Append(Quote(column));
        }
        var orderBy = new StringBuilder();
        foreach (var (column, descending) in order)
        {
            orderBy.Append(orderBy.Length == 0 ? "" : ", ").Append(Quote(column)).Append(descending ? " DESC NULLS LAST" : " ASC NULLS LAST");
        }
        var sql = new StringBuilder("SELECT ").Append(select).Append(" FROM (").Append(result).Append(')');
        if (orderBy.Length > 0 || !options.AllSnapshots)
        {
            // A stable tail so equal sort keys come back in the API's order every time.
            orderBy.Append(orderBy.Length == 0 ? "" : ", ").Append("\"source_id\", \"row_ordinal\"");
            sql.Append(" ORDER BY ").Append(orderBy);
        }
        // else: the parts are scanned in (source_id, row_ordinal) order and DuckDB preserves it (preserve_insertion_order),
        // so rows stream out in the API's order without a sort holding them all.
        if (options.Limit is { } limit)
        {
            sql.Append(" LIMIT ").Append(limit.ToString(CultureInfo.InvariantCulture));
        }
        if (options.Offset > 0)
        {
            sql.Append(" OFFSET ").Append(options.Offset.ToString(CultureInfo.InvariantCulture));
        }
        var selectedColumns = new List<FilterColumn>();
        foreach (var name in selected)
        {
            selectedColumns.Add(columns.Find(name)!);
        }
        return new CompiledPagesQuery(sql.ToString(), $"SELECT count(*) FROM ({result})", parameters, selectedColumns,
            hasWhere, hasHaving, options.Offset > 0);
    }

    /// <summary>
    /// The rows a request is about, before having/order/limit: the pages view filtered by target and <c>where</c>, then,
    /// unless <paramref name="allSnapshots"/>, one row per url (newest snapshot, ties to the later source, then the API's
    /// order). Its parameters start at <c>$1</c>; the result's <see cref="SqlFragment.NextParameterIndex"/> says where
    /// further fragments start.
    /// </summary>
    public static SqlFragment CompileMatchedRows(string? where, string? target, string? mode, bool allSnapshots)
    {
        var columns = FilterColumns.Pages;
        var parameters = new List<object?>();
        var conditions = new List<string>();
        int next = 1;
        if (!string.IsNullOrWhiteSpace(target))
        {
            var compiled = TargetMatcher.Compile(target, mode ?? "domain", next);
            conditions.Add(compiled.Sql);
            parameters.AddRange(compiled.Parameters);
            next = compiled.NextParameterIndex;
        }
        else if (!string.IsNullOrWhiteSpace(mode))
        {
            throw new FilterException("mode", mode, 0, "mode needs a target");
        }
        if (!string.IsNullOrWhiteSpace(where))
        {
            var compiled = FilterCompiler.Compile(FilterParser.Parse(where, "where", columns), next);
            conditions.Add(compiled.Sql);
            parameters.AddRange(compiled.Parameters);
        }

        var allColumns = new StringBuilder();
        foreach (var column in columns.Columns)
        {
            allColumns.Append(allColumns.Length == 0 ? "" : ", ").Append(Quote(column.Name));
        }
        string filter = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        string filtered = $"SELECT {allColumns} FROM pages{filter}";
        string rows = allSnapshots
            ? filtered
            : $"""
              SELECT {allColumns} FROM (
                  SELECT f.*, row_number() OVER (
                      PARTITION BY f.url ORDER BY s.snapshot DESC NULLS LAST, f.source_id DESC, f.row_ordinal) AS latest_rank
                  FROM ({filtered}) f JOIN sources s USING (source_id))
              WHERE latest_rank = 1
              """;
        return new SqlFragment(rows, parameters, 1);
    }

    internal static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
