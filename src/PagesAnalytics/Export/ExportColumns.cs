using Apache.Arrow;
using Apache.Arrow.Types;
using PagesAnalytics.Query;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Export;

/// <summary>One column <c>pages export</c> can write.</summary>
/// <param name="Name">The column name in the files.</param>
/// <param name="ArrowType">Its Arrow type (Parquet and DuckDB types follow from it).</param>
/// <param name="Nullable">False for url, source_id and row_ordinal, as in the store.</param>
/// <param name="Sql">Its DuckDB expression over the relation <c>m</c> (the request's rows) and <c>s</c> (sources).</param>
/// <param name="Partitionable">Whether <c>--partition-by</c> accepts it.</param>
public sealed record ExportColumn(string Name, IArrowType ArrowType, bool Nullable, string Sql, bool Partitionable)
{
    /// <summary>True when the column comes from the source record (<c>snapshot</c>), so the export joins <c>sources</c>.</summary>
    public bool FromSources => Sql.StartsWith("s.", StringComparison.Ordinal);
}

/// <summary>
/// The columns of an export: the 21 stored columns in the schema's order, the derived <c>host</c> and four ratios of the
/// <c>pages</c> view, <c>snapshot</c> (DATE: when the row's response was fetched, from its source record) and
/// <c>http_class</c> (<c>0</c>, <c>1xx</c> .. <c>5xx</c>, <c>other</c>; NULL when http_code is NULL).
/// </summary>
public static class ExportColumns
{
    /// <summary>The DuckDB expression of <c>http_class</c> over <c>m.http_code</c>.</summary>
    internal const string HttpClassSql = """
        CASE WHEN m."http_code" IS NULL THEN NULL WHEN m."http_code" = 0 THEN '0' WHEN m."http_code" BETWEEN 100 AND 599
             THEN CAST(m."http_code" // 100 AS VARCHAR) || 'xx' ELSE 'other' END
        """;

    /// <summary>Every exportable column, in output order.</summary>
    public static IReadOnlyList<ExportColumn> All { get; } = BuildAll();

    /// <summary>
    /// What an export writes without <c>--select</c>: the 21 stored columns, <c>host</c> and <c>snapshot</c>. The SQL
    /// that <c>--emit-sql</c> prints reads exactly these.
    /// </summary>
    public static IReadOnlyList<ExportColumn> Default { get; } = BuildDefault();

    /// <summary>The columns <c>--partition-by</c> accepts.</summary>
    public static IReadOnlyList<string> Partitionable { get; } = ["http_class", "snapshot", "http_code", "host", "source_id"];

    /// <summary>The whitelist for <c>--select</c>: all columns, <c>*</c> meaning the 19 API columns.</summary>
    internal static FilterColumns SelectColumns { get; } = BuildSelectColumns();

    /// <summary>The column called <paramref name="name"/> (any case), or null.</summary>
    public static ExportColumn? Find(string name)
    {
        foreach (var column in All)
        {
            if (string.Equals(column.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return column;
            }
        }
        return null;
    }

    /// <summary>The Arrow field of a column, as the export files declare it.</summary>
    internal static Field Field(ExportColumn column) => new(column.Name, column.ArrowType, column.Nullable);

    private static List<ExportColumn> BuildAll()
    {
        var columns = new List<ExportColumn>();
        foreach (var column in PagesSchema.Columns)
        {
            columns.Add(new ExportColumn(column.Name, column.ArrowType, column.Nullable, "m.\"" + column.Name + "\"",
                column.Name is "http_code" or "source_id"));
        }
        columns.Add(new ExportColumn("host", StringType.Default, true, "m.\"host\"", true));
        foreach (var name in new[] { "refdomain_ratio", "dofollow_ratio", "class_c_per_refdomain", "ips_per_refdomain" })
        {
            columns.Add(new ExportColumn(name, DoubleType.Default, true, "m.\"" + name + "\"", false));
        }
        columns.Add(new ExportColumn("snapshot", Date32Type.Default, true, "s.\"snapshot\"", true));
        columns.Add(new ExportColumn("http_class", StringType.Default, true, HttpClassSql, true));
        return columns;
    }

    private static List<ExportColumn> BuildDefault()
    {
        var columns = new List<ExportColumn>();
        foreach (var column in All)
        {
            if (PagesSchema.Find(column.Name) is not null || column.Name is "host" or "snapshot")
            {
                columns.Add(column);
            }
        }
        return columns;
    }

    private static FilterColumns BuildSelectColumns()
    {
        var columns = new List<FilterColumn>();
        foreach (var column in All)
        {
            var type = column.ArrowType.TypeId switch
            {
                ArrowTypeId.String => FilterType.Text,
                ArrowTypeId.Double => FilterType.Decimal,
                ArrowTypeId.Timestamp or ArrowTypeId.Date32 => FilterType.Timestamp,
                _ => FilterType.Integer,
            };
            bool inStar = PagesSchema.Find(column.Name) is { } stored && stored.Index < PagesSchema.ApiColumnCount;
            columns.Add(new FilterColumn(column.Name, type, inStar));
        }
        return new FilterColumns(columns);
    }
}
