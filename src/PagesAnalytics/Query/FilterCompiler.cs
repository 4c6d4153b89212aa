namespace PagesAnalytics.Query;

/// <summary>
/// Turns a <see cref="FilterNode"/> into a DuckDB boolean expression. Every value is a bound parameter with an explicit
/// cast (<c>$n::VARCHAR</c>, <c>::BIGINT</c>, <c>::DOUBLE</c>, <c>::BOOLEAN</c>, <c>::TIMESTAMPTZ</c>), so the comparison
/// type never depends on how the driver infers the parameter (DuckDB would otherwise cast <c>4.9</c> to the INTEGER
/// column's type and compare with 5); every identifier comes from the node's <see cref="FilterColumn"/> and is
/// double-quoted.
/// </summary>
/// <remarks>
/// SQL shapes (c = the quoted column, v = the value placeholder):
/// <list type="bullet">
/// <item>comparison: <c>c op v</c> with op one of <c>= &lt;&gt; &lt; &lt;= &gt; &gt;=</c>;</item>
/// <item>date-only literal d against a timestamp: <c>=</c> → <c>(c &gt;= d0 AND c &lt; d1)</c>, <c>&lt;&gt;</c> →
/// <c>(c &lt; d0 OR c &gt;= d1)</c>, <c>&lt;</c> → <c>c &lt; d0</c>, <c>&lt;=</c> → <c>c &lt; d1</c>, <c>&gt;</c> →
/// <c>c &gt;= d1</c>, <c>&gt;=</c> → <c>c &gt;= d0</c>, where d0/d1 are midnight UTC of d and of the day after;</item>
/// <item>substring: <c>contains(c, v)</c>; isubstring: <c>contains(lower(c), lower(v))</c>; prefix:
/// <c>starts_with(c, v)</c>; suffix: <c>ends_with(c, v)</c>; regex: <c>regexp_matches(c, v)</c>;</item>
/// <item>word: <c>regexp_matches(lower(c), '(^|[^\pL\pN\pM])' || regexp_escape(lower(v)) || '([^\pL\pN\pM]|$)')</c>;</item>
/// <item>subdomain: <c>ends_with('.' || lower(regexp_extract(c, host pattern, 1)), '.' || lower(v))</c>;</item>
/// <item>empty: <c>(c IS NULL OR c = '')</c> for text, <c>(c IS NULL)</c> otherwise; is_null: <c>(c IS NULL)</c>;</item>
/// <item>and/or: <c>(a AND b ...)</c>, <c>(a OR b ...)</c>; not: <c>((a) IS NOT TRUE)</c>, so that a leaf made NULL by a
/// NULL column counts as false and its negation as true.</item>
/// </list>
/// <para>
/// Spark SQL and Trino (<see cref="ToInlineSql"/> only) use the same shapes with their own functions and literals
/// (<see cref="SqlDialect"/>): not is <c>(NOT coalesce(a, false))</c>; substring is <c>contains(c, v)</c> in Spark and
/// <c>(strpos(c, v) &gt; 0)</c> in Trino; prefix/suffix are <c>startswith</c>/<c>endswith</c> in Spark and
/// <c>starts_with</c>/<c>ends_with</c> in Trino; regex is <c>(c RLIKE v)</c> in Spark and <c>regexp_like(c, v)</c> in
/// Trino (Java regular expressions rather than RE2: the common syntax agrees); word escapes the value's ASCII
/// punctuation with backslashes here, as those engines have no <c>regexp_escape</c>, and writes the word classes as
/// <c>\p{L}\p{N}\p{M}</c>.
/// </para>
/// </remarks>
public static class FilterCompiler
{
    /// <summary>
    /// The host of a URL: scheme and user info dropped, up to the first <c>:</c>, <c>/</c>, <c>?</c> or <c>#</c>. The same
    /// pattern the <c>pages</c> view uses for its <c>host</c> column.
    /// </summary>
    internal const string HostPattern = "'^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^@/?#]*@)?([^:/?#]+)'";

    // Word characters for word(): letters, digits and combining marks, in RE2's Unicode classes.
    private const string WordBefore = @"'(^|[^\pL\pN\pM])'";
    private const string WordAfter = @"'([^\pL\pN\pM]|$)'";

    // The same for Java regular expressions (Spark, Trino), as text to be written as a literal of the dialect.
    private const string PortableWordBefore = @"(^|[^\p{L}\p{N}\p{M}])";
    private const string PortableWordAfter = @"([^\p{L}\p{N}\p{M}]|$)";

    /// <summary>
    /// Compiles <paramref name="node"/> into a parameterized expression whose placeholders start at
    /// <c>$<paramref name="firstParameterIndex"/></c>.
    /// </summary>
    public static SqlFragment Compile(FilterNode node, int firstParameterIndex = 1)
    {
        ArgumentNullException.ThrowIfNull(node);
        var builder = SqlBuilder.Parameterized(firstParameterIndex);
        Emit(node, builder);
        return builder.Build();
    }

    /// <summary>
    /// The same expression with every value inlined as an escaped literal of <paramref name="dialect"/> (see
    /// <see cref="SqlDialect"/>) and identifiers quoted in its way, for showing the SQL of a request
    /// (<c>--emit-sql</c>). DuckDB's is the parameterized expression with the values in place.
    /// </summary>
    public static string ToInlineSql(FilterNode node, SqlDialect dialect)
    {
        ArgumentNullException.ThrowIfNull(node);
        var builder = SqlBuilder.Inline(dialect);
        Emit(node, builder);
        return builder.Build().Sql;
    }

    private static void Emit(FilterNode node, SqlBuilder sql)
    {
        switch (node)
        {
            case AndFilter and:
                EmitList(and.Operands, " AND ", sql);
                break;
            case OrFilter or:
                EmitList(or.Operands, " OR ", sql);
                break;
            case NotFilter not when sql.Dialect == SqlDialect.DuckDb:
                sql.Sql("((");
                Emit(not.Operand, sql);
                sql.Sql(") IS NOT TRUE)");
                break;
            case NotFilter not:
                // Trino has no IS [NOT] TRUE; coalesce gives the same three-valued result everywhere.
                sql.Sql("(NOT coalesce(");
                Emit(not.Operand, sql);
                sql.Sql(", false))");
                break;
            case ComparisonFilter comparison:
                EmitComparison(comparison, sql);
                break;
            case FunctionFilter function:
                EmitFunction(function, sql);
                break;
            default:
                throw new ArgumentException($"unknown filter node {node.GetType().Name}", nameof(node));
        }
    }

    private static void EmitList(IReadOnlyList<FilterNode> operands, string separator, SqlBuilder sql)
    {
        if (operands.Count == 0)
        {
            throw new ArgumentException("and/or needs at least one operand");
        }
        sql.Sql("(");
        for (int i = 0; i < operands.Count; i++)
        {
            if (i > 0)
            {
                sql.Sql(separator);
            }
            Emit(operands[i], sql);
        }
        sql.Sql(")");
    }

    private static void EmitComparison(ComparisonFilter comparison, SqlBuilder sql)
    {
        var column = comparison.Column;
        var literal = comparison.Value;
        CheckLiteral(column, literal);
        if (literal.Kind == FilterLiteralKind.Date)
        {
            EmitDayComparison(column, comparison.Operator, (DateOnly)literal.Value, sql);
            return;
        }
        sql.Identifier(column.Name).Sql(Symbol(comparison.Operator)).Value(literal.Value);
    }

    private static void EmitDayComparison(FilterColumn column, ComparisonOperator op, DateOnly day, SqlBuilder sql)
    {
        var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var end = start.AddDays(1);
        switch (op)
        {
            case ComparisonOperator.Equal:
                sql.Sql("(").Identifier(column.Name).Sql(" >= ").Value(start)
                    .Sql(" AND ").Identifier(column.Name).Sql(" < ").Value(end).Sql(")");
                break;
            case ComparisonOperator.NotEqual:
                sql.Sql("(").Identifier(column.Name).Sql(" < ").Value(start)
                    .Sql(" OR ").Identifier(column.Name).Sql(" >= ").Value(end).Sql(")");
                break;
            case ComparisonOperator.Less:
                sql.Identifier(column.Name).Sql(" < ").Value(start);
                break;
            case ComparisonOperator.LessOrEqual:
                sql.Identifier(column.Name).Sql(" < ").Value(end);
                break;
            case ComparisonOperator.Greater:
                sql.Identifier(column.Name).Sql(" >= ").Value(end);
                break;
            case ComparisonOperator.GreaterOrEqual:
                sql.Identifier(column.Name).Sql(" >= ").Value(start);
                break;
            default:
                throw new ArgumentException($"unknown operator {op}", nameof(op));
        }
    }

    private static void EmitFunction(FunctionFilter function, SqlBuilder sql)
    {
        var column = function.Column;
        if (function.Function is FilterFunction.Empty)
        {
            sql.Sql("(").Identifier(column.Name).Sql(" IS NULL");
            if (column.Type == FilterType.Text)
            {
                sql.Sql(" OR ").Identifier(column.Name).Sql(" = ''");
            }
            sql.Sql(")");
            return;
        }
        if (function.Function is FilterFunction.IsNull)
        {
            sql.Sql("(").Identifier(column.Name).Sql(" IS NULL)");
            return;
        }
        if (column.Type != FilterType.Text || function.Argument is not { Kind: FilterLiteralKind.Text, Value: string value })
        {
            throw new ArgumentException($"{function.Function} needs a text column and a text argument");
        }
        if (sql.Dialect != SqlDialect.DuckDb)
        {
            EmitPortableFunction(function.Function, column, value, sql);
            return;
        }
        switch (function.Function)
        {
            case FilterFunction.Substring:
                sql.Sql("contains(").Identifier(column.Name).Sql(", ").Text(value).Sql(")");
                break;
            case FilterFunction.ISubstring:
                sql.Sql("contains(lower(").Identifier(column.Name).Sql("), lower(").Text(value).Sql("))");
                break;
            case FilterFunction.Prefix:
                sql.Sql("starts_with(").Identifier(column.Name).Sql(", ").Text(value).Sql(")");
                break;
            case FilterFunction.Suffix:
                sql.Sql("ends_with(").Identifier(column.Name).Sql(", ").Text(value).Sql(")");
                break;
            case FilterFunction.Regex:
                sql.Sql("regexp_matches(").Identifier(column.Name).Sql(", ").Text(value).Sql(")");
                break;
            case FilterFunction.Word:
                sql.Sql("regexp_matches(lower(").Identifier(column.Name).Sql("), ").Sql(WordBefore)
                    .Sql(" || regexp_escape(lower(").Text(value).Sql(")) || ").Sql(WordAfter).Sql(")");
                break;
            case FilterFunction.Subdomain:
                sql.Sql("ends_with('.' || lower(regexp_extract(").Identifier(column.Name).Sql(", ").Sql(HostPattern)
                    .Sql(", 1)), '.' || lower(").Text(value).Sql("))");
                break;
            default:
                throw new ArgumentException($"unknown function {function.Function}");
        }
    }

    // Spark and Trino: the same conditions with their function names (see the class remarks).
    private static void EmitPortableFunction(FilterFunction function, FilterColumn column, string value, SqlBuilder sql)
    {
        bool spark = sql.Dialect == SqlDialect.Spark;
        switch (function)
        {
            case FilterFunction.Substring when spark:
                sql.Sql("contains(").Identifier(column.Name).Sql(", ").Text(value).Sql(")");
                break;
            case FilterFunction.Substring:
                sql.Sql("(strpos(").Identifier(column.Name).Sql(", ").Text(value).Sql(") > 0)");
                break;
            case FilterFunction.ISubstring when spark:
                sql.Sql("contains(lower(").Identifier(column.Name).Sql("), lower(").Text(value).Sql("))");
                break;
            case FilterFunction.ISubstring:
                sql.Sql("(strpos(lower(").Identifier(column.Name).Sql("), lower(").Text(value).Sql(")) > 0)");
                break;
            case FilterFunction.Prefix:
                sql.Sql(spark ? "startswith(" : "starts_with(").Identifier(column.Name).Sql(", ").Text(value).Sql(")");
                break;
            case FilterFunction.Suffix:
                sql.Sql(spark ? "endswith(" : "ends_with(").Identifier(column.Name).Sql(", ").Text(value).Sql(")");
                break;
            case FilterFunction.Regex when spark:
                sql.Sql("(").Identifier(column.Name).Sql(" RLIKE ").Text(value).Sql(")");
                break;
            case FilterFunction.Regex:
                sql.Sql("regexp_like(").Identifier(column.Name).Sql(", ").Text(value).Sql(")");
                break;
            case FilterFunction.Word:
                if (spark)
                {
                    sql.Sql("(lower(").Identifier(column.Name).Sql(") RLIKE (");
                }
                else
                {
                    sql.Sql("regexp_like(lower(").Identifier(column.Name).Sql("), ");
                }
                sql.Text(PortableWordBefore).Sql(" || lower(").Text(EscapeRegex(value)).Sql(") || ").Text(PortableWordAfter)
                    .Sql(spark ? "))" : ")");
                break;
            case FilterFunction.Subdomain:
                sql.Sql(spark ? "endswith(" : "ends_with(").Sql("'.' || lower(regexp_extract(").Identifier(column.Name).Sql(", ")
                    .Sql(HostPattern).Sql(", 1)), '.' || lower(").Text(value).Sql("))");
                break;
            default:
                throw new ArgumentException($"unknown function {function}");
        }
    }

    /// <summary>
    /// <paramref name="text"/> as a regular expression matching itself in Java's syntax (Spark) and Joni's (Trino):
    /// every ASCII punctuation character gets a backslash, which both read as that character literally.
    /// </summary>
    internal static string EscapeRegex(string text)
    {
        var escaped = new System.Text.StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (c is > ' ' and < '\x7f' && !char.IsAsciiLetterOrDigit(c))
            {
                escaped.Append('\\');
            }
            escaped.Append(c);
        }
        return escaped.ToString();
    }

    private static string Symbol(ComparisonOperator op) => op switch
    {
        ComparisonOperator.Equal => " = ",
        ComparisonOperator.NotEqual => " <> ",
        ComparisonOperator.Less => " < ",
        ComparisonOperator.LessOrEqual => " <= ",
        ComparisonOperator.Greater => " > ",
        ComparisonOperator.GreaterOrEqual => " >= ",
        _ => throw new ArgumentException($"unknown operator {op}", nameof(op)),
    };

    // Nodes usually come from FilterParser, which already enforced this; hand-built ones are checked here.
    private static void CheckLiteral(FilterColumn column, FilterLiteral literal)
    {
        bool ok = (column.Type, literal.Kind, literal.Value) switch
        {
            (FilterType.Text, FilterLiteralKind.Text, string) => true,
            (FilterType.Integer or FilterType.Decimal, FilterLiteralKind.Integer, long) => true,
            (FilterType.Integer or FilterType.Decimal, FilterLiteralKind.Decimal, double number) => double.IsFinite(number),
            (FilterType.Timestamp, FilterLiteralKind.Date, DateOnly day) => day < DateOnly.MaxValue,
            (FilterType.Timestamp, FilterLiteralKind.Timestamp, DateTimeOffset) => true,
            (FilterType.Boolean, FilterLiteralKind.Boolean, bool) => true,
            _ => false,
        };
        if (!ok)
        {
            throw new ArgumentException($"a {literal.Kind} literal ({literal.Value.GetType().Name}) cannot be compared with column '{column.Name}' of type {column.Type}");
        }
    }
}
