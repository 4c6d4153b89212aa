using System.Globalization;
using System.Text;

namespace PagesAnalytics.Query;

/// <summary>Recursive-descent reader of the v2 filter text; see <see cref="FilterParser.ParseV2"/> for the grammar.</summary>
internal sealed class V2FilterParser
{
    private static readonly string[] FunctionNames = ["substring", "word", "subdomain"];

    private readonly string _text;
    private readonly FilterSource _source;
    private readonly FilterColumns _columns;
    private int _pos;

    public V2FilterParser(string text, string clause, FilterColumns columns)
    {
        _text = text;
        _source = new FilterSource(clause, text);
        _columns = columns;
    }

    public FilterNode Parse()
    {
        SkipSpace();
        if (AtEnd)
        {
            throw _source.Error(_pos, "empty filter");
        }
        var conditions = new List<FilterNode>();
        while (true)
        {
            conditions.Add(ParseCondition());
            SkipSpace();
            if (AtEnd)
            {
                break;
            }
            if (_text[_pos] != ',')
            {
                throw _source.Error(_pos, $"expected ',' or the end of the filter, got {DescribeHere()}");
            }
            _pos++;
            SkipSpace();
            if (AtEnd)
            {
                throw _source.Error(_pos, "expected a condition after ','");
            }
        }
        return conditions.Count == 1 ? conditions[0] : new AndFilter(conditions, conditions[0].Position);
    }

    private bool AtEnd => _pos >= _text.Length;

    private FilterNode ParseCondition()
    {
        int start = _pos;
        if (!IsIdentifierStart(_text[_pos]))
        {
            throw _source.Error(_pos, $"expected a column or a function, got {DescribeHere()}");
        }
        string name = ReadIdentifier();
        SkipSpace();
        if (!AtEnd && _text[_pos] == '(')
        {
            return ParseFunction(name, start);
        }
        var column = ResolveColumn(name, start);
        int operatorPosition = _pos;
        var op = ReadOperator()
            ?? throw _source.Error(operatorPosition, $"expected an operator (= <> < <= > >=) after '{column.Name}', got {DescribeHere()}");
        SkipSpace();
        var value = ReadValue();
        var literal = FilterTyping.ForComparison(column, op, operatorPosition, value, _source);
        return new ComparisonFilter(column, op, literal, start);
    }

    private FilterNode ParseFunction(string name, int start)
    {
        FilterFunction function;
        switch (name.ToLowerInvariant())
        {
            case "substring":
                function = FilterFunction.Substring;
                break;
            case "word":
                function = FilterFunction.Word;
                break;
            case "subdomain":
                function = FilterFunction.Subdomain;
                break;
            default:
                throw _source.Error(start, $"unknown function '{name}' (v2 has substring, word, subdomain)", Suggestions.Nearest(name, FunctionNames));
        }
        string functionName = name.ToLowerInvariant();
        _pos++; // '('
        SkipSpace();
        int columnPosition = _pos;
        if (AtEnd || !IsIdentifierStart(_text[_pos]))
        {
            throw _source.Error(_pos, $"expected a column as the first argument of {functionName}, got {DescribeHere()}");
        }
        var column = ResolveColumn(ReadIdentifier(), columnPosition);
        SkipSpace();
        Expect(',', $"expected ',' after the column of {functionName}");
        SkipSpace();
        var value = ReadValue();
        var literal = FilterTyping.ForFunction(column, columnPosition, function, functionName, value, start, _source);
        SkipSpace();
        Expect(')', $"expected ')' to close {functionName}(");
        return new FunctionFilter(column, function, literal, start);
    }

    private FilterColumn ResolveColumn(string name, int position)
        => _columns.Find(name) ?? throw _source.Error(position, $"unknown column '{name}'", _columns.Suggest(name));

    private ComparisonOperator? ReadOperator()
    {
        if (AtEnd)
        {
            return null;
        }
        char c = _text[_pos];
        char next = _pos + 1 < _text.Length ? _text[_pos + 1] : '\0';
        switch (c)
        {
            case '=':
                _pos++;
                return ComparisonOperator.Equal;
            case '!' when next == '=':
                _pos += 2;
                return ComparisonOperator.NotEqual;
            case '<' when next == '>':
                _pos += 2;
                return ComparisonOperator.NotEqual;
            case '<' when next == '=':
                _pos += 2;
                return ComparisonOperator.LessOrEqual;
            case '<':
                _pos++;
                return ComparisonOperator.Less;
            case '>' when next == '=':
                _pos += 2;
                return ComparisonOperator.GreaterOrEqual;
            case '>':
                _pos++;
                return ComparisonOperator.Greater;
            default:
                return null;
        }
    }

    private RawValue ReadValue()
    {
        int start = _pos;
        if (AtEnd)
        {
            throw _source.Error(_pos, "expected a value (a number, true, false or a quoted string) at the end of the filter");
        }
        char c = _text[_pos];
        if (c is '"' or '\'')
        {
            return new RawValue(RawKind.String, ReadQuoted(), start);
        }
        if (c is '-' or '+' or '.' || char.IsAsciiDigit(c))
        {
            return ReadNumber();
        }
        if (IsIdentifierStart(c))
        {
            string word = ReadIdentifier();
            if (word.Equals("true", StringComparison.OrdinalIgnoreCase))
            {
                return new RawValue(RawKind.Boolean, true, start);
            }
            if (word.Equals("false", StringComparison.OrdinalIgnoreCase))
            {
                return new RawValue(RawKind.Boolean, false, start);
            }
            if (word.Equals("null", StringComparison.OrdinalIgnoreCase))
            {
                throw _source.Error(start, "null is not a value: a comparison with NULL is never true");
            }
            throw _source.Error(start, $"expected a value (a number, true, false or a quoted string), got '{word}': quote text, e.g. \"{word}\"");
        }
        throw _source.Error(start, $"expected a value (a number, true, false or a quoted string), got {DescribeHere()}");
    }

    private RawValue ReadNumber()
    {
        int start = _pos;
        if (_text[_pos] is '-' or '+')
        {
            _pos++;
        }
        int digits = SkipDigits();
        bool isDecimal = false;
        if (!AtEnd && _text[_pos] == '.')
        {
            isDecimal = true;
            _pos++;
            digits += SkipDigits();
        }
        if (digits > 0 && !AtEnd && _text[_pos] is 'e' or 'E')
        {
            isDecimal = true;
            _pos++;
            if (!AtEnd && _text[_pos] is '-' or '+')
            {
                _pos++;
            }
            if (SkipDigits() == 0)
            {
                throw _source.Error(start, $"malformed number '{_text[start.._pos]}'");
            }
        }
        if (digits == 0 || (!AtEnd && (IsIdentifierPart(_text[_pos]) || _text[_pos] == '.')))
        {
            while (!AtEnd && (IsIdentifierPart(_text[_pos]) || _text[_pos] == '.'))
            {
                _pos++;
            }
            throw _source.Error(start, $"malformed number '{_text[start.._pos]}'");
        }
        string text = _text[start.._pos];
        if (!isDecimal)
        {
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer))
            {
                throw _source.Error(start, $"integer {text} is out of range");
            }
            return new RawValue(RawKind.Integer, integer, start);
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) || !double.IsFinite(number))
        {
            throw _source.Error(start, $"number {text} is out of range");
        }
        return new RawValue(RawKind.Decimal, number, start);
    }

    private int SkipDigits()
    {
        int start = _pos;
        while (!AtEnd && char.IsAsciiDigit(_text[_pos]))
        {
            _pos++;
        }
        return _pos - start;
    }

    /// <summary>Reads "..." or '...' with the escapes \" \' \\ \/ \0 \n \r \t \uXXXX.</summary>
    private string ReadQuoted()
    {
        int start = _pos;
        char quote = _text[_pos++];
        var value = new StringBuilder();
        while (true)
        {
            if (AtEnd)
            {
                throw _source.Error(start, "unterminated string: missing the closing " + quote);
            }
            char c = _text[_pos];
            if (c == quote)
            {
                _pos++;
                return value.ToString();
            }
            if (c != '\\')
            {
                value.Append(c);
                _pos++;
                continue;
            }
            int escape = _pos;
            if (_pos + 1 >= _text.Length)
            {
                throw _source.Error(start, "unterminated string: missing the closing " + quote);
            }
            char kind = _text[_pos + 1];
            _pos += 2;
            switch (kind)
            {
                case '"' or '\'' or '\\' or '/':
                    value.Append(kind);
                    break;
                case '0':
                    value.Append('\0');
                    break;
                case 'n':
                    value.Append('\n');
                    break;
                case 'r':
                    value.Append('\r');
                    break;
                case 't':
                    value.Append('\t');
                    break;
                case 'u':
                    if (_pos + 4 > _text.Length
                        || !ushort.TryParse(_text.AsSpan(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ushort code))
                    {
                        throw _source.Error(escape, "\\u needs four hex digits");
                    }
                    value.Append((char)code);
                    _pos += 4;
                    break;
                default:
                    throw _source.Error(escape, $"unknown escape '\\{kind}' (known: \\\" \\' \\\\ \\/ \\0 \\n \\r \\t \\uXXXX)");
            }
        }
    }

    private void Expect(char c, string reason)
    {
        if (AtEnd || _text[_pos] != c)
        {
            throw _source.Error(_pos, $"{reason}, got {DescribeHere()}");
        }
        _pos++;
    }

    private string ReadIdentifier()
    {
        int start = _pos;
        while (!AtEnd && IsIdentifierPart(_text[_pos]))
        {
            _pos++;
        }
        return _text[start.._pos];
    }

    private void SkipSpace()
    {
        while (!AtEnd && char.IsWhiteSpace(_text[_pos]))
        {
            _pos++;
        }
    }

    private string DescribeHere()
    {
        if (AtEnd)
        {
            return "the end of the filter";
        }
        return char.IsSurrogate(_text[_pos]) && _pos + 1 < _text.Length
            ? "'" + _text.Substring(_pos, 2) + "'"
            : "'" + _text[_pos] + "'";
    }

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
