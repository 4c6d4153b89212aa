using PagesAnalytics.Schema;

namespace PagesAnalytics.Query;

/// <summary>The type of a column as filters see it: decides which literals and functions it accepts.</summary>
public enum FilterType
{
    /// <summary>VARCHAR: quoted strings; <c>=</c>, <c>&lt;&gt;</c> and the ordering operators compare UTF-8 bytes (case-sensitive); the text functions apply.</summary>
    Text,
    /// <summary>INTEGER or BIGINT: integers and decimals.</summary>
    Integer,
    /// <summary>DOUBLE (or DECIMAL): integers and decimals.</summary>
    Decimal,
    /// <summary>TIMESTAMPTZ: quoted dates (<c>YYYY-MM-DD</c>) and ISO-8601 date-times.</summary>
    Timestamp,
    /// <summary>BOOLEAN: <c>true</c> and <c>false</c>, with <c>=</c> and <c>&lt;&gt;</c> only.</summary>
    Boolean,
}

/// <summary>One column a filter, <c>order_by</c> or <c>select</c> may name.</summary>
/// <param name="Name">The name as the SQL relation spells it; emitted double-quoted.</param>
/// <param name="Type">The filter type.</param>
/// <param name="InStar">Whether <c>select=*</c> includes the column.</param>
public sealed record FilterColumn(string Name, FilterType Type, bool InStar = true);

/// <summary>
/// The whitelist of columns a filter may name, with their types. Names are matched case-insensitively and emitted in
/// their canonical spelling, double-quoted: identifiers in generated SQL never come from user text.
/// </summary>
public sealed class FilterColumns
{
    private readonly Dictionary<string, FilterColumn> _byName;

    /// <summary>Creates a whitelist from (name, type) pairs, in order; every column is part of <c>*</c>.</summary>
    public FilterColumns(IEnumerable<(string Name, FilterType Type)> columns)
        : this(Map(columns))
    {
    }

    /// <summary>Creates a whitelist from column descriptions, in order.</summary>
    public FilterColumns(IEnumerable<FilterColumn> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var list = new List<FilterColumn>();
        _byName = new Dictionary<string, FilterColumn>(StringComparer.OrdinalIgnoreCase);
        foreach (var column in columns)
        {
            ArgumentNullException.ThrowIfNull(column);
            if (string.IsNullOrWhiteSpace(column.Name))
            {
                throw new ArgumentException("a filter column needs a name", nameof(columns));
            }
            if (!_byName.TryAdd(column.Name, column))
            {
                throw new ArgumentException($"column '{column.Name}' is listed twice", nameof(columns));
            }
            list.Add(column);
        }
        if (list.Count == 0)
        {
            throw new ArgumentException("a filter column list needs at least one column", nameof(columns));
        }
        Columns = list;
        var star = new List<FilterColumn>();
        foreach (var column in list)
        {
            if (column.InStar)
            {
                star.Add(column);
            }
        }
        Star = star;
    }

    /// <summary>
    /// The columns of the <c>pages</c> view: the 21 schema columns (Utf8 as <see cref="FilterType.Text"/>, Int32/Int64 as
    /// <see cref="FilterType.Integer"/>, Timestamp as <see cref="FilterType.Timestamp"/>), then the derived <c>host</c>
    /// (Text) and <c>refdomain_ratio</c>, <c>dofollow_ratio</c>, <c>class_c_per_refdomain</c>, <c>ips_per_refdomain</c>
    /// (Decimal). <c>*</c> means the 19 API columns in the documented order.
    /// </summary>
    public static FilterColumns Pages { get; } = BuildPages();

    /// <summary>All columns, in order.</summary>
    public IReadOnlyList<FilterColumn> Columns { get; }

    /// <summary>The columns <c>select=*</c> stands for, in order.</summary>
    public IReadOnlyList<FilterColumn> Star { get; }

    /// <summary>Finds a column by name, ignoring case; null when there is none.</summary>
    public FilterColumn? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The column name nearest to <paramref name="name"/> (edit distance, then prefix), or null.</summary>
    public string? Suggest(string name)
    {
        var names = new string[Columns.Count];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = Columns[i].Name;
        }
        return Suggestions.Nearest(name, names);
    }

    private static IEnumerable<FilterColumn> Map(IEnumerable<(string Name, FilterType Type)> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        foreach (var (name, type) in columns)
        {
            yield return new FilterColumn(name, type);
        }
    }

    private static FilterColumns BuildPages()
    {
        var columns = new List<FilterColumn>();
        foreach (var column in PagesSchema.Columns)
        {
            var type = column.Kind switch
            {
                ColumnKind.Utf8 => FilterType.Text,
                ColumnKind.Int32 or ColumnKind.Int64 => FilterType.Integer,
                ColumnKind.Timestamp => FilterType.Timestamp,
                _ => throw new InvalidOperationException($"unknown kind {column.Kind}"),
            };
            columns.Add(new FilterColumn(column.Name, type, column.Index < PagesSchema.ApiColumnCount));
        }
        columns.Add(new FilterColumn("host", FilterType.Text, false));
        columns.Add(new FilterColumn("refdomain_ratio", FilterType.Decimal, false));
        columns.Add(new FilterColumn("dofollow_ratio", FilterType.Decimal, false));
        columns.Add(new FilterColumn("class_c_per_refdomain", FilterType.Decimal, false));
        columns.Add(new FilterColumn("ips_per_refdomain", FilterType.Decimal, false));
        return new FilterColumns(columns);
    }
}
