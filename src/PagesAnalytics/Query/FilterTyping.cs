using System.Globalization;
using System.Text.RegularExpressions;

namespace PagesAnalytics.Query;

/// <summary>The text being read and its clause; makes positioned errors.</summary>
internal sealed class FilterSource(string clause, string input)
{
    public string Clause { get; } = clause;

    public string Input { get; } = input;

    public FilterException Error(int position, string reason, string? suggestion = null)
        => new(Clause, Input, position, reason, suggestion);
}

/// <summary>What a value looked like in the source, before typing against its column.</summary>
internal enum RawKind
{
    String,
    Integer,
    Decimal,
    Boolean,
}

/// <summary>An untyped value as a surface syntax read it.</summary>
internal readonly record struct RawValue(RawKind Kind, object Value, int Position);

/// <summary>The type rules both syntaxes share: which literal a column accepts, date parsing, function arguments.</summary>
internal static partial class FilterTyping
{
    /// <summary>Types <paramref name="value"/> for <c>column op value</c>, or throws a positioned error.</summary>
    public static FilterLiteral ForComparison(FilterColumn column, ComparisonOperator op, int operatorPosition,
        RawValue value, FilterSource source)
    {
        switch (column.Type)
        {
            case FilterType.Text:
                if (value.Kind == RawKind.String)
                {
                    return new FilterLiteral(FilterLiteralKind.Text, value.Value, value.Position);
                }
                throw source.Error(value.Position, $"column '{column.Name}' is text: compare it with a quoted string, got {Describe(value)}");
            case FilterType.Integer:
            case FilterType.Decimal:
                return value.Kind switch
                {
                    RawKind.Integer => new FilterLiteral(FilterLiteralKind.Integer, value.Value, value.Position),
                    RawKind.Decimal => new FilterLiteral(FilterLiteralKind.Decimal, value.Value, value.Position),
                    _ => throw source.Error(value.Position, $"column '{column.Name}' is a number: compare it with a number, got {Describe(value)}"),
                };
            case FilterType.Timestamp:
                if (value.Kind != RawKind.String)
                {
                    throw source.Error(value.Position, $"column '{column.Name}' is a timestamp: compare it with a quoted date like \"2020-01-31\" or an ISO-8601 date-time, got {Describe(value)}");
                }
                return ParseDateLiteral((string)value.Value, value.Position, column, source);
            case FilterType.Boolean:
                if (value.Kind != RawKind.Boolean)
                {
                    throw source.Error(value.Position, $"column '{column.Name}' is a boolean: compare it with true or false, got {Describe(value)}");
                }
                if (op is not (ComparisonOperator.Equal or ComparisonOperator.NotEqual))
                {
                    throw source.Error(operatorPosition, $"column '{column.Name}' is a boolean: only = and <> apply");
                }
                return new FilterLiteral(FilterLiteralKind.Boolean, value.Value, value.Position);
            default:
                throw new InvalidOperationException($"unknown filter type {column.Type}");
        }
    }

    /// <summary>Checks a function's column and argument; returns the typed argument (null for empty and is_null).</summary>
    public static FilterLiteral? ForFunction(FilterColumn column, int columnPosition, FilterFunction function, string functionName,
        RawValue? value, int functionPosition, FilterSource source)
    {
        if (function is FilterFunction.Empty or FilterFunction.IsNull)
        {
            return null;
        }
        if (column.Type != FilterType.Text)
        {
            throw source.Error(columnPosition, $"{functionName} applies to text columns; '{column.Name}' is {TypeName(column.Type)}");
        }
        if (value is not { } raw)
        {
            throw source.Error(functionPosition, $"{functionName} needs a string value");
        }
        if (raw.Kind != RawKind.String)
        {
            throw source.Error(raw.Position, $"{functionName} needs a quoted string, got {Describe(raw)}");
        }
        var text = (string)raw.Value;
        if (text.Length == 0 && function is FilterFunction.Word or FilterFunction.Subdomain)
        {
            throw source.Error(raw.Position, $"{functionName} needs a non-empty string");
        }
        return new FilterLiteral(FilterLiteralKind.Text, text, raw.Position);
    }

    /// <summary>"text", "a number", ... for messages.</summary>
    public static string TypeName(FilterType type) => type switch
    {
        FilterType.Text => "text",
        FilterType.Integer or FilterType.Decimal => "a number",
        FilterType.Timestamp => "a timestamp",
        FilterType.Boolean => "a boolean",
        _ => type.ToString(),
    };

    private static string Describe(RawValue value) => value.Kind switch
    {
        RawKind.String => "a string",
        RawKind.Integer or RawKind.Decimal => "a number",
        RawKind.Boolean => (bool)value.Value ? "true" : "false",
        _ => "a value",
    };

    /// <summary>
    /// <c>YYYY-MM-DD</c> is a whole UTC day (<see cref="FilterLiteralKind.Date"/>); <c>YYYY-MM-DD[T| ]hh:mm[:ss[.fraction]][Z|±hh[[:]mm]]</c>
    /// is an instant (<see cref="FilterLiteralKind.Timestamp"/>), UTC when no offset is given, truncated to microseconds.
    /// </summary>
    internal static FilterLiteral ParseDateLiteral(string text, int position, FilterColumn column, FilterSource source)
    {
        var date = DateOnlyPattern().Match(text);
        if (date.Success)
        {
            if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
                || day == DateOnly.MaxValue)
            {
                throw source.Error(position, $"\"{text}\" is not a valid date");
            }
            return new FilterLiteral(FilterLiteralKind.Date, day, position);
        }
        var match = DateTimePattern().Match(text);
        if (!match.Success)
        {
            throw source.Error(position, $"column '{column.Name}' is a timestamp: expected a date YYYY-MM-DD or an ISO-8601 date-time like 2020-01-31T12:00:00Z, got \"{text}\"");
        }
        try
        {
            int Part(string name) => int.Parse(match.Groups[name].Value, NumberStyles.None, CultureInfo.InvariantCulture);
            int seconds = match.Groups["s"].Success ? Part("s") : 0;
            var offset = TimeSpan.Zero;
            if (match.Groups["tz"].Success && match.Groups["tz"].Value is not ("Z" or "z"))
            {
                var minutes = Part("tzh") * 60 + (match.Groups["tzm"].Success ? Part("tzm") : 0);
                offset = TimeSpan.FromMinutes(match.Groups["tz"].Value[0] == '-' ? -minutes : minutes);
            }
            var instant = new DateTimeOffset(Part("y"), Part("mo"), Part("d"), Part("h"), Part("mi"), seconds, offset);
            if (match.Groups["f"].Success)
            {
                // DuckDB keeps microseconds: take the first six digits of the fraction.
                var digits = match.Groups["f"].Value.PadRight(6, '0')[..6];
                instant = instant.AddTicks(int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture) * 10L);
            }
            return new FilterLiteral(FilterLiteralKind.Timestamp, instant.ToUniversalTime(), position);
        }
        catch (ArgumentException)
        {
            throw source.Error(position, $"\"{text}\" is not a valid date-time");
        }
    }

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}\z", RegexOptions.CultureInvariant)]
    private static partial Regex DateOnlyPattern();

    [GeneratedRegex(@"^(?<y>[0-9]{4})-(?<mo>[0-9]{2})-(?<d>[0-9]{2})[Tt ](?<h>[0-9]{2}):(?<mi>[0-9]{2})(?::(?<s>[0-9]{2})(?:\.(?<f>[0-9]{1,9}))?)?(?<tz>[Zz]|[+-](?<tzh>[0-9]{2})(?::?(?<tzm>[0-9]{2}))?)?\z",
        RegexOptions.CultureInvariant)]
    private static partial Regex DateTimePattern();
}
