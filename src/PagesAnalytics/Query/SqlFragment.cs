using System.Data.Common;
using System.Globalization;
using System.Text;
using DuckDB.NET.Data;

namespace PagesAnalytics.Query;

/// <summary>SQL dialects <see cref="FilterCompiler.ToInlineSql"/> can render for (<c>--emit-sql</c>).</summary>
/// <remarks>
/// Literals per dialect (user text is never spliced into SQL unescaped):
/// <list type="bullet">
/// <item>DuckDB: <c>'it''s'::VARCHAR</c>, <c>200::BIGINT</c>, <c>(-5)::BIGINT</c>, <c>4.9::DOUBLE</c>, <c>true::BOOLEAN</c>,
/// <c>'2020-01-01 00:00:00.000000+00'::TIMESTAMPTZ</c>; identifiers <c>"name"</c>.</item>
/// <item>Spark SQL: <c>'it\'s'</c> (backslash escapes, Spark's default <c>spark.sql.parser.escapedStringLiterals=false</c>),
/// <c>CAST(200 AS BIGINT)</c>, <c>CAST(4.9 AS DOUBLE)</c>, <c>true</c>, <c>TIMESTAMP '2020-01-01 00:00:00.000000Z'</c>;
/// identifiers <c>`name`</c>.</item>
/// <item>Trino: <c>'it''s'</c>, <c>CAST(200 AS BIGINT)</c>, <c>CAST(4.9 AS DOUBLE)</c>, <c>true</c>,
/// <c>TIMESTAMP '2020-01-01 00:00:00.000000 UTC'</c>; identifiers <c>"name"</c>.</item>
/// </list>
/// A NUL character is spliced in with <c>chr(0)</c> in every dialect.
/// </remarks>
public enum SqlDialect
{
    /// <summary>DuckDB.</summary>
    DuckDb,
    /// <summary>Spark SQL (3.4 or later).</summary>
    Spark,
    /// <summary>Trino.</summary>
    Trino,
}

/// <summary>
/// A boolean SQL expression with positional parameters <c>$n</c>, numbered from <see cref="FirstParameterIndex"/>.
/// Several fragments combine into one statement when each starts where the previous one ended
/// (<see cref="NextParameterIndex"/>) and their parameters are bound in that order.
/// </summary>
public sealed class SqlFragment
{
    /// <summary>Creates a fragment; <paramref name="sql"/> uses <c>$first</c>..<c>$(first+count-1)</c>.</summary>
    public SqlFragment(string sql, IReadOnlyList<object?> parameters, int firstParameterIndex)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfLessThan(firstParameterIndex, 1);
        Sql = sql;
        Parameters = parameters;
        FirstParameterIndex = firstParameterIndex;
    }

    /// <summary>The expression, e.g. <c>("http_code" = $1::BIGINT AND contains("title", $2::VARCHAR))</c>.</summary>
    public string Sql { get; }

    /// <summary>
    /// The values of <c>$first</c>, <c>$first+1</c>, ... in order: <see cref="string"/>, <see cref="long"/>,
    /// <see cref="double"/>, <see cref="bool"/> or <see cref="DateTimeOffset"/> (UTC). Each placeholder in
    /// <see cref="Sql"/> carries an explicit cast, so the bound .NET type never decides the comparison type.
    /// </summary>
    public IReadOnlyList<object?> Parameters { get; }

    /// <summary>The number of the first placeholder.</summary>
    public int FirstParameterIndex { get; }

    /// <summary>The number the next fragment of the same statement should start at.</summary>
    public int NextParameterIndex => FirstParameterIndex + Parameters.Count;

    /// <summary>
    /// Appends the parameters to <paramref name="command"/> as positional <see cref="DuckDBParameter"/>s. The command must
    /// already hold exactly the parameters before this fragment (<see cref="FirstParameterIndex"/> - 1 of them).
    /// </summary>
    public void BindTo(DbCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Parameters.Count != FirstParameterIndex - 1)
        {
            throw new InvalidOperationException(
                $"the fragment starts at ${FirstParameterIndex} but the command holds {command.Parameters.Count} parameters");
        }
        foreach (var value in Parameters)
        {
            command.Parameters.Add(value is null ? new DuckDBParameter { Value = DBNull.Value } : new DuckDBParameter(value));
        }
    }

    /// <summary>The SQL.</summary>
    public override string ToString() => Sql;
}

/// <summary>
/// Builds SQL from trusted fragments, quoted identifiers and values. Values become <c>$n::TYPE</c> placeholders, or,
/// for <c>--emit-sql</c>, escaped literals; user text is never appended as SQL.
/// </summary>
internal sealed class SqlBuilder
{
    private readonly StringBuilder _sql = new();
    private readonly List<object?> _parameters = [];
    private readonly int _first;
    private readonly bool _inline;

    private SqlBuilder(int first, bool inline, SqlDialect dialect)
    {
        _first = first;
        _inline = inline;
        Dialect = dialect;
    }

    /// <summary>The dialect being written; parameterized SQL is always DuckDB.</summary>
    public SqlDialect Dialect { get; }

    public static SqlBuilder Parameterized(int firstParameterIndex)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(firstParameterIndex, 1);
        return new SqlBuilder(firstParameterIndex, false, SqlDialect.DuckDb);
    }

    public static SqlBuilder Inline(SqlDialect dialect)
    {
        if (!Enum.IsDefined(dialect))
        {
            throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "unknown SQL dialect");
        }
        return new SqlBuilder(1, true, dialect);
    }

    /// <summary>Appends SQL written in this code base (never user text).</summary>
    public SqlBuilder Sql(string trusted)
    {
        _sql.Append(trusted);
        return this;
    }

    /// <summary>Appends a quoted identifier: double quotes, or backticks for Spark.</summary>
    public SqlBuilder Identifier(string name)
    {
        _sql.Append(QuoteIdentifier(name, Dialect));
        return this;
    }

    /// <summary>
    /// A quoted identifier in <paramref name="dialect"/>: <c>"name"</c> (quotes doubled) for DuckDB and Trino,
    /// <c>`name`</c> (backticks doubled) for Spark.
    /// </summary>
    public static string QuoteIdentifier(string name, SqlDialect dialect) => dialect == SqlDialect.Spark
        ? "`" + name.Replace("`", "``", StringComparison.Ordinal) + "`"
        : "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// A string literal in <paramref name="dialect"/> for text without NUL characters: quotes doubled (DuckDB, Trino;
    /// backslashes are ordinary characters there), or backslash-escaped quotes and backslashes (Spark).
    /// </summary>
    public static string StringLiteral(string text, SqlDialect dialect)
    {
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("a string literal cannot hold NUL; splice chr(0) in", nameof(text));
        }
        return dialect == SqlDialect.Spark
            ? "'" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'"
            : "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    /// <summary>Appends a string value as VARCHAR. NUL characters are spliced in with <c>chr(0)</c>: drivers cut C strings there.</summary>
    public SqlBuilder Text(string value)
    {
        if (!value.Contains('\0', StringComparison.Ordinal))
        {
            return Value(value, "VARCHAR");
        }
        var parts = value.Split('\0');
        _sql.Append('(');
        for (int i = 0; i < parts.Length; i++)
        {
            if (i > 0)
            {
                _sql.Append(" || chr(0) || ");
            }
            Value(parts[i], "VARCHAR");
        }
        _sql.Append(')');
        return this;
    }

    /// <summary>Appends a non-text value with its SQL type: <see cref="long"/> BIGINT, <see cref="double"/> DOUBLE, <see cref="bool"/> BOOLEAN, <see cref="DateTimeOffset"/> TIMESTAMPTZ.</summary>
    public SqlBuilder Value(object value) => value switch
    {
        string text => Text(text),
        long => Value(value, "BIGINT"),
        double => Value(value, "DOUBLE"),
        bool => Value(value, "BOOLEAN"),
        DateTimeOffset instant => Value(instant.ToUniversalTime(), "TIMESTAMPTZ"),
        _ => throw new ArgumentException($"unsupported SQL value type {value.GetType()}", nameof(value)),
    };

    public SqlFragment Build() => new(_sql.ToString(), _parameters.ToArray(), _first);

    private SqlBuilder Value(object value, string type)
    {
        if (_inline)
        {
            _sql.Append(Dialect == SqlDialect.DuckDb ? Literal(value) + "::" + type : PortableLiteral(value, Dialect));
            return this;
        }
        _parameters.Add(value);
        _sql.Append('$').Append((_first + _parameters.Count - 1).ToString(CultureInfo.InvariantCulture)).Append("::").Append(type);
        return this;
    }

    /// <summary>A DuckDB literal: strings single-quoted with quotes doubled (backslashes are not escapes in DuckDB).</summary>
    private static string Literal(object value) => value switch
    {
        string text => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'",
        // Negative numbers in parentheses: "-9223372036854775808::BIGINT" would cast before negating and overflow.
        long integer => integer < 0 ? "(" + integer.ToString(CultureInfo.InvariantCulture) + ")" : integer.ToString(CultureInfo.InvariantCulture),
        double number => number < 0 ? "(" + number.ToString("R", CultureInfo.InvariantCulture) + ")" : number.ToString("R", CultureInfo.InvariantCulture),
        bool flag => flag ? "true" : "false",
        DateTimeOffset instant => "'" + instant.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00'",
        _ => throw new ArgumentException($"unsupported SQL value type {value.GetType()}", nameof(value)),
    };

    /// <summary>
    /// A Spark or Trino literal with its type made explicit: strings as they are (both type a quoted literal as a
    /// string), numbers in <c>CAST(... AS BIGINT|DOUBLE)</c>, timestamps as UTC <c>TIMESTAMP</c> literals.
    /// </summary>
    private static string PortableLiteral(object value, SqlDialect dialect) => value switch
    {
        string text => StringLiteral(text, dialect),
        // The literal 9223372036854775808 does not fit a BIGINT before the minus applies.
        long.MinValue => "(CAST(-9223372036854775807 AS BIGINT) - 1)",
        long integer => "CAST(" + integer.ToString(CultureInfo.InvariantCulture) + " AS BIGINT)",
        double number => "CAST(" + number.ToString("R", CultureInfo.InvariantCulture) + " AS DOUBLE)",
        bool flag => flag ? "true" : "false",
        DateTimeOffset instant => "TIMESTAMP '" + instant.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)
            + (dialect == SqlDialect.Spark ? "Z'" : " UTC'"),
        _ => throw new ArgumentException($"unsupported SQL value type {value.GetType()}", nameof(value)),
    };
}
