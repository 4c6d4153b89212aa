namespace PagesAnalytics.Query;

/// <summary>
/// Reads <c>where</c>/<c>having</c> filters in either surface syntax into one <see cref="FilterNode"/> tree, type-checked
/// against a column whitelist. Errors are <see cref="FilterException"/>s naming the clause, the character position
/// (with a caret) and, for unknown names, the nearest valid one.
/// </summary>
public static class FilterParser
{
    /// <summary>
    /// Reads a filter in the syntax its first non-blank character shows: <c>{</c> means v3 JSON
    /// (<see cref="ParseV3"/>), anything else v2 text (<see cref="ParseV2"/>).
    /// </summary>
    public static FilterNode Parse(string text, string clause = "where", FilterColumns? columns = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.AsSpan().TrimStart().StartsWith("{", StringComparison.Ordinal)
            ? ParseV3(text, clause, columns)
            : ParseV2(text, clause, columns);
    }

    /// <summary>
    /// Reads the Ahrefs API v2 filter text:
    /// <code>
    /// cond_list := cond ("," cond)*                          comma means AND
    /// cond      := column op value | fn "(" column "," quoted ")"
    /// op        := = | &lt;&gt; | &lt; | &lt;= | &gt; | &gt;=      (!= is accepted for &lt;&gt;)
    /// fn        := substring | word | subdomain
    /// value     := integer | decimal | true | false | quoted
    /// quoted    := "..." or '...' with the escapes \" \' \\ \/ \0 \n \r \t \uXXXX
    /// </code>
    /// Blanks may surround every token. Column and function names ignore case. Integers are 64-bit and may carry a sign;
    /// decimals have a fraction and/or an exponent (<c>0.5</c>, <c>-1e3</c>). A quoted value against a timestamp column
    /// is a date (<c>"2013-11-20"</c>: that whole UTC day) or an ISO-8601 date-time (<c>"2013-11-20T09:46:29Z"</c>,
    /// <c>"2013-11-20 09:46"</c>, <c>"2013-11-20T11:46:29+02:00"</c>; no offset means UTC). Values must match the
    /// column's type: text needs a quoted string, numbers an unquoted number, timestamps a quoted date, booleans
    /// true/false; anything else is an error at the value. See <see cref="FilterFunction"/> and
    /// <see cref="ComparisonFilter"/> for what each condition means.
    /// </summary>
    /// <param name="text">The filter, e.g. <c>http_code=200,word(title,"seo"),first_seen&gt;="2013-01-01"</c>.</param>
    /// <param name="clause">The option name used in error messages (<c>where</c> or <c>having</c>).</param>
    /// <param name="columns">The whitelist; <see cref="FilterColumns.Pages"/> when null.</param>
    public static FilterNode ParseV2(string text, string clause = "where", FilterColumns? columns = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(clause);
        return new V2FilterParser(text, clause, columns ?? FilterColumns.Pages).Parse();
    }

    /// <summary>
    /// Reads the Ahrefs API v3 JSON filter language:
    /// <code>
    /// filter    := {"and":[filter,...]} | {"or":[filter,...]} | {"not":filter} | {"field":column,"is":condition}
    /// condition := [op, value] with op in eq neq gt gte lt lte substring isubstring prefix suffix regex
    ///            | "empty" | ["empty"] | "is_null" | ["is_null"]
    /// </code>
    /// Keys and operators are case-sensitive (as in v3); column names ignore case. JSON strings, numbers (integers
    /// without fraction or exponent are 64-bit integers) and true/false are the values; the same type rules as
    /// <see cref="ParseV2"/> apply (dates are JSON strings). <c>modifier</c>, <c>list_is</c> and
    /// <c>phrase_match</c> are not supported. Trailing commas and comments are tolerated. Error positions are
    /// character indexes into <paramref name="json"/> of the offending token.
    /// </summary>
    /// <param name="json">The filter, e.g. <c>{"and":[{"field":"http_code","is":["eq",200]}]}</c>.</param>
    /// <param name="clause">The option name used in error messages (<c>where</c> or <c>having</c>).</param>
    /// <param name="columns">The whitelist; <see cref="FilterColumns.Pages"/> when null.</param>
    public static FilterNode ParseV3(string json, string clause = "where", FilterColumns? columns = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(clause);
        return new V3FilterParser(json, clause, columns ?? FilterColumns.Pages).Parse();
    }
}
