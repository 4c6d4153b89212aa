namespace PagesAnalytics.Query;

/// <summary>The v2 target modes.</summary>
public enum TargetMode
{
    /// <summary>That one URL.</summary>
    Exact,
    /// <summary>Every URL whose host is the target's host.</summary>
    Domain,
    /// <summary>Every URL whose host is the target's host or a subdomain of it.</summary>
    Subdomains,
    /// <summary>Every URL that starts with the target.</summary>
    Prefix,
}

/// <summary>
/// Compiles v2 <c>target</c> + <c>mode</c> into a parameterized condition on the <c>url</c> and <c>host</c> columns of
/// the <c>pages</c> view. http and https are alike: the target is given without a protocol, and a leading
/// <c>http://</c> or <c>https://</c> (any case) is removed; URLs are compared under both schemes.
/// <list type="bullet">
/// <item><c>exact</c>: url is <c>http://T</c> or <c>https://T</c>, where a trailing slash is optional on both sides
/// (<c>ahrefs.com</c>, <c>ahrefs.com/</c> match <c>https://ahrefs.com</c> and <c>https://ahrefs.com/</c>). The rest of the
/// URL compares as written (case-sensitive). SQL: <c>"url" IN ($1, $2, $3, $4)</c>.</item>
/// <item><c>domain</c>: host equals the target's host (the part before <c>/ ? #</c>, without user info and port,
/// lowercased; a path in the target is ignored). SQL: <c>"host" = $1</c>.</item>
/// <item><c>subdomains</c>: host equals the target's host or ends with <c>"." + host</c> (<c>www.ahrefs.com</c> is in,
/// <c>notahrefs.com</c> is not). SQL: <c>ends_with('.' || "host", $1)</c> with <c>$1 = "." + host</c>.</item>
/// <item><c>prefix</c>: url without its scheme starts with the target, case-sensitive. SQL:
/// <c>(starts_with("url", $1) OR starts_with("url", $2))</c> with <c>http://T</c> and <c>https://T</c>.</item>
/// </list>
/// Rows whose url or host is NULL never match. Errors are <see cref="FilterException"/>s with clause <c>target</c> or <c>mode</c>.
/// </summary>
public static class TargetMatcher
{
    private static readonly string[] ModeNames = ["exact", "domain", "subdomains", "prefix"];

    /// <summary>Reads a mode name (<c>exact</c>, <c>domain</c>, <c>subdomains</c>, <c>prefix</c>; any case).</summary>
    public static TargetMode ParseMode(string mode)
    {
        ArgumentNullException.ThrowIfNull(mode);
        return mode.Trim().ToLowerInvariant() switch
        {
            "exact" => TargetMode.Exact,
            "domain" => TargetMode.Domain,
            "subdomains" => TargetMode.Subdomains,
            "prefix" => TargetMode.Prefix,
            _ => throw new FilterException("mode", mode, 0, $"unknown mode '{mode}' (exact, domain, subdomains or prefix)",
                Suggestions.Nearest(mode.Trim(), ModeNames)),
        };
    }

    /// <summary>Compiles the condition for <paramref name="target"/> in <paramref name="mode"/> (a mode name).</summary>
    public static SqlFragment Compile(string target, string mode, int firstParameterIndex = 1)
        => Compile(target, ParseMode(mode), firstParameterIndex);

    /// <summary>Compiles the condition for <paramref name="target"/> in <paramref name="mode"/>.</summary>
    public static SqlFragment Compile(string target, TargetMode mode, int firstParameterIndex = 1)
    {
        var builder = SqlBuilder.Parameterized(firstParameterIndex);
        Emit(target, mode, builder);
        return builder.Build();
    }

    /// <summary>
    /// The same condition with the values inlined as escaped literals of <paramref name="dialect"/>, for
    /// <c>--emit-sql</c> (Spark spells the functions <c>startswith</c>/<c>endswith</c>).
    /// </summary>
    public static string ToInlineSql(string target, TargetMode mode, SqlDialect dialect)
    {
        var builder = SqlBuilder.Inline(dialect);
        Emit(target, mode, builder);
        return builder.Build().Sql;
    }

    /// <summary>The target without surrounding blanks and without a leading <c>http://</c> or <c>https://</c>.</summary>
    public static string Normalize(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        int start = 0;
        while (start < target.Length && char.IsWhiteSpace(target[start]))
        {
            start++;
        }
        var rest = target.AsSpan(start).TrimEnd();
        if (rest.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            start += 7;
        }
        else if (rest.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            start += 8;
        }
        string normalized = target.AsSpan(start).Trim().ToString();
        if (normalized.Length == 0)
        {
            throw new FilterException("target", target, Math.Min(start, target.Length), "empty target");
        }
        int scheme = normalized.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            throw new FilterException("target", target, target.IndexOf("://", start, StringComparison.Ordinal),
                "only http:// and https:// targets are supported (or give the target without a protocol)");
        }
        return normalized;
    }

    /// <summary>The lowercased host of a normalized target: before <c>/ ? #</c>, without user info and port.</summary>
    public static string HostOf(string normalizedTarget)
    {
        ArgumentNullException.ThrowIfNull(normalizedTarget);
        var host = normalizedTarget.AsSpan();
        int end = host.IndexOfAny('/', '?', '#');
        if (end >= 0)
        {
            host = host[..end];
        }
        int at = host.LastIndexOf('@');
        if (at >= 0)
        {
            host = host[(at + 1)..];
        }
        int colon = host.IndexOf(':');
        if (colon >= 0)
        {
            host = host[..colon];
        }
        return host.ToString().ToLowerInvariant();
    }

    private static void Emit(string target, TargetMode mode, SqlBuilder sql)
    {
        string normalized = Normalize(target);
        switch (mode)
        {
            case TargetMode.Exact:
                {
                    string with = normalized.EndsWith('/') ? normalized : normalized + "/";
                    string without = normalized.TrimEnd('/');
                    sql.Identifier("url").Sql(" IN (").Text("http://" + without).Sql(", ").Text("https://" + without)
                        .Sql(", ").Text("http://" + with).Sql(", ").Text("https://" + with).Sql(")");
                    break;
                }
            case TargetMode.Domain:
                sql.Identifier("host").Sql(" = ").Text(RequireHost(target, normalized));
                break;
            case TargetMode.Subdomains:
                sql.Sql(EndsWith(sql.Dialect)).Sql("('.' || ").Identifier("host").Sql(", ").Text("." + RequireHost(target, normalized)).Sql(")");
                break;
            case TargetMode.Prefix:
                sql.Sql("(").Sql(StartsWith(sql.Dialect)).Sql("(").Identifier("url").Sql(", ").Text("http://" + normalized)
                    .Sql(") OR ").Sql(StartsWith(sql.Dialect)).Sql("(").Identifier("url").Sql(", ").Text("https://" + normalized).Sql("))");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown target mode");
        }
    }

    private static string StartsWith(SqlDialect dialect) => dialect == SqlDialect.Spark ? "startswith" : "starts_with";

    private static string EndsWith(SqlDialect dialect) => dialect == SqlDialect.Spark ? "endswith" : "ends_with";

    private static string RequireHost(string target, string normalized)
    {
        string host = HostOf(normalized);
        if (host.Length == 0)
        {
            throw new FilterException("target", target, 0, "the target has no host");
        }
        return host;
    }
}
