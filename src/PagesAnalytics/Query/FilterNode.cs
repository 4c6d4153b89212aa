namespace PagesAnalytics.Query;

/// <summary>
/// A parsed filter: the one tree both surface syntaxes (v2 text, v3 JSON) produce and <see cref="FilterCompiler"/> turns
/// into SQL. Every node keeps the 0-based character position in the text it came from.
/// </summary>
/// <remarks>
/// Truth of a node is two-valued: a leaf whose column value is NULL is false (see <see cref="ComparisonFilter"/>),
/// <see cref="NotFilter"/> turns false into true (so <c>not</c> of a comparison with a NULL column holds), and
/// <see cref="AndFilter"/>/<see cref="OrFilter"/> combine as usual.
/// </remarks>
public abstract record FilterNode(int Position);

/// <summary>All operands hold. v2: conditions separated by commas; v3: <c>{"and":[...]}</c>.</summary>
public sealed record AndFilter(IReadOnlyList<FilterNode> Operands, int Position) : FilterNode(Position);

/// <summary>At least one operand holds. v3 only: <c>{"or":[...]}</c>.</summary>
public sealed record OrFilter(IReadOnlyList<FilterNode> Operands, int Position) : FilterNode(Position);

/// <summary>
/// The operand does not hold. v3 only: <c>{"not":{...}}</c>. A leaf that is false because its column is NULL makes
/// <c>not</c> true: <c>{"not":{"field":"title","is":["eq","x"]}}</c> matches rows whose title is NULL, while
/// <c>["neq","x"]</c> does not.
/// </summary>
public sealed record NotFilter(FilterNode Operand, int Position) : FilterNode(Position);

/// <summary>The comparison operators: v2 <c>= &lt;&gt; &lt; &lt;= &gt; &gt;=</c>, v3 <c>eq neq lt lte gt gte</c>.</summary>
public enum ComparisonOperator
{
    /// <summary><c>=</c> / <c>eq</c>.</summary>
    Equal,
    /// <summary><c>&lt;&gt;</c> (also <c>!=</c>) / <c>neq</c>.</summary>
    NotEqual,
    /// <summary><c>&lt;</c> / <c>lt</c>.</summary>
    Less,
    /// <summary><c>&lt;=</c> / <c>lte</c>.</summary>
    LessOrEqual,
    /// <summary><c>&gt;</c> / <c>gt</c>.</summary>
    Greater,
    /// <summary><c>&gt;=</c> / <c>gte</c>.</summary>
    GreaterOrEqual,
}

/// <summary>
/// <c>column op value</c>. The value is typed against the column (a date against a timestamp column, a number against
/// a numeric one, a string against a text one, <c>true</c>/<c>false</c> against a boolean one). A NULL column value
/// makes every comparison false, <c>&lt;&gt;</c> included (SQL semantics).
/// </summary>
/// <remarks>
/// A date-only literal (<see cref="FilterLiteralKind.Date"/>) against a timestamp column compares the UTC calendar day:
/// <c>= "2013-11-20"</c> is any instant of that UTC day, <c>&lt;&gt;</c> any instant outside it, <c>&lt;</c> before its
/// midnight UTC, <c>&lt;=</c> before the next midnight, <c>&gt;</c> from the next midnight on, <c>&gt;=</c> from its
/// midnight on. A date-time literal compares the exact instant.
/// </remarks>
public sealed record ComparisonFilter(FilterColumn Column, ComparisonOperator Operator, FilterLiteral Value, int Position)
    : FilterNode(Position);

/// <summary>The functions of both syntaxes. All but <see cref="Empty"/> and <see cref="IsNull"/> take a string and a text column.</summary>
public enum FilterFunction
{
    /// <summary>v2 <c>substring(col,"v")</c>, v3 <c>["substring","v"]</c>: col contains v, case-sensitive.</summary>
    Substring,
    /// <summary>v3 <c>["isubstring","v"]</c>: col contains v ignoring case (both sides lowercased, Unicode-aware).</summary>
    ISubstring,
    /// <summary>
    /// v2 <c>word(col,"v")</c>: v occurs in col as a whole word, ignoring case. Word characters are Unicode letters,
    /// digits and combining marks (<c>\pL \pN \pM</c>); everything else (spaces, punctuation, <c>_</c>, <c>-</c>,
    /// <c>/</c>, emoji) separates words. v is matched literally (no pattern characters) and may itself hold several words.
    /// </summary>
    Word,
    /// <summary>
    /// v2 <c>subdomain(col,"d")</c>: the host of the URL in col (scheme, user info and port removed, lowercased) is d or
    /// ends with <c>"." + d</c>, ignoring case. <c>www.ahrefs.com</c> and <c>ahrefs.com</c> are subdomains of
    /// <c>ahrefs.com</c>; <c>notahrefs.com</c> is not. Works on any text column holding URLs (url, redirect_url).
    /// </summary>
    Subdomain,
    /// <summary>v3 <c>["prefix","v"]</c>: col starts with v, case-sensitive.</summary>
    Prefix,
    /// <summary>v3 <c>["suffix","v"]</c>: col ends with v, case-sensitive.</summary>
    Suffix,
    /// <summary>v3 <c>["regex","p"]</c>: col contains a match of the RE2 pattern p (unanchored; use ^ and $ to anchor).</summary>
    Regex,
    /// <summary>v3 <c>"empty"</c> or <c>["empty"]</c>: col is NULL, or the empty string for text columns.</summary>
    Empty,
    /// <summary>v3 <c>"is_null"</c>: col is NULL.</summary>
    IsNull,
}

/// <summary>A function applied to a column. <see cref="Argument"/> is null for <c>empty</c> and <c>is_null</c>.</summary>
public sealed record FunctionFilter(FilterColumn Column, FilterFunction Function, FilterLiteral? Argument, int Position)
    : FilterNode(Position);

/// <summary>What a literal is, and so the CLR type of <see cref="FilterLiteral.Value"/>.</summary>
public enum FilterLiteralKind
{
    /// <summary>A string (<see cref="string"/>).</summary>
    Text,
    /// <summary>An integer (<see cref="long"/>).</summary>
    Integer,
    /// <summary>A number with a fraction or exponent (<see cref="double"/>, finite).</summary>
    Decimal,
    /// <summary><c>true</c> or <c>false</c> (<see cref="bool"/>).</summary>
    Boolean,
    /// <summary>A quoted <c>YYYY-MM-DD</c> against a timestamp column (<see cref="DateOnly"/>): a whole UTC day.</summary>
    Date,
    /// <summary>A quoted ISO-8601 date-time against a timestamp column (<see cref="DateTimeOffset"/>, offset 0); no offset means UTC.</summary>
    Timestamp,
}

/// <summary>A literal value, already typed against its column.</summary>
public sealed record FilterLiteral(FilterLiteralKind Kind, object Value, int Position);
