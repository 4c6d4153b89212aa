using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PagesAnalytics.Query;

/// <summary>
/// Reader of the v3 JSON filter language; see <see cref="FilterParser.ParseV3"/>. The JSON is first read into a small
/// tree that remembers the character position of every token (JsonDocument does not), then checked.
/// </summary>
internal sealed class V3FilterParser
{
    private static readonly string[] NodeKeys = ["and", "or", "not", "field", "is"];
    private static readonly string[] Operators =
        ["eq", "neq", "gt", "gte", "lt", "lte", "substring", "isubstring", "prefix", "suffix", "regex", "empty", "is_null"];

    private readonly string _text;
    private readonly FilterSource _source;
    private readonly FilterColumns _columns;

    public V3FilterParser(string text, string clause, FilterColumns columns)
    {
        _text = text;
        _source = new FilterSource(clause, text);
        _columns = columns;
    }

    public FilterNode Parse()
    {
        if (string.IsNullOrWhiteSpace(_text))
        {
            throw _source.Error(0, "empty filter");
        }
        var root = JsonTree.Read(_text, _source);
        return ParseFilter(root);
    }

    private FilterNode ParseFilter(JsonTree.Item item)
    {
        if (item.Kind != JsonValueKind.Object)
        {
            throw _source.Error(item.Position, "expected an object: {\"and\":[...]}, {\"or\":[...]}, {\"not\":{...}} or {\"field\":...,\"is\":...}");
        }
        var properties = item.Properties!;
        if (properties.Count == 0)
        {
            throw _source.Error(item.Position, "empty object: expected {\"and\":[...]}, {\"or\":[...]}, {\"not\":{...}} or {\"field\":...,\"is\":...}");
        }
        JsonTree.Property? field = null;
        JsonTree.Property? condition = null;
        JsonTree.Property? logical = null;
        foreach (var property in properties)
        {
            switch (property.Key)
            {
                case "and" or "or" or "not":
                    if (logical is not null || field is not null || condition is not null)
                    {
                        throw _source.Error(property.KeyPosition, $"'{property.Key}' cannot be combined with other keys in one object");
                    }
                    logical = property;
                    break;
                case "field":
                case "is":
                    if (logical is not null)
                    {
                        throw _source.Error(property.KeyPosition, $"'{property.Key}' cannot be combined with '{logical.Key}' in one object");
                    }
                    if (property.Key == "field")
                    {
                        field = property;
                    }
                    else
                    {
                        condition = property;
                    }
                    break;
                case "list_is" or "modifier":
                    throw _source.Error(property.KeyPosition, $"'{property.Key}' is not supported: pages columns are plain values");
                default:
                    throw _source.Error(property.KeyPosition, $"unknown key '{property.Key}'", Suggestions.Nearest(property.Key, NodeKeys));
            }
        }
        if (logical is not null)
        {
            return ParseLogical(logical, item.Position);
        }
        if (field is null)
        {
            throw _source.Error(item.Position, "missing \"field\"");
        }
        if (condition is null)
        {
            throw _source.Error(item.Position, "missing \"is\": e.g. {\"field\":\"http_code\",\"is\":[\"eq\",200]}");
        }
        return ParseExpression(field, condition, item.Position);
    }

    private FilterNode ParseLogical(JsonTree.Property property, int position)
    {
        var value = property.Value;
        if (property.Key == "not")
        {
            return new NotFilter(ParseFilter(value), position);
        }
        if (value.Kind != JsonValueKind.Array)
        {
            throw _source.Error(value.Position, $"\"{property.Key}\" takes an array of filters");
        }
        if (value.Items!.Count == 0)
        {
            throw _source.Error(value.Position, $"\"{property.Key}\" needs at least one filter");
        }
        var operands = new List<FilterNode>(value.Items.Count);
        foreach (var operand in value.Items)
        {
            operands.Add(ParseFilter(operand));
        }
        return property.Key == "and" ? new AndFilter(operands, position) : new OrFilter(operands, position);
    }

    private FilterNode ParseExpression(JsonTree.Property fieldProperty, JsonTree.Property conditionProperty, int position)
    {
        var fieldValue = fieldProperty.Value;
        if (fieldValue.Kind != JsonValueKind.String)
        {
            throw _source.Error(fieldValue.Position, "\"field\" takes a column name as a string");
        }
        string name = fieldValue.String!;
        var column = _columns.Find(name) ?? throw _source.Error(fieldValue.Position, $"unknown column '{name}'", _columns.Suggest(name));

        var condition = conditionProperty.Value;
        JsonTree.Item opItem;
        IReadOnlyList<JsonTree.Item> arguments;
        if (condition.Kind == JsonValueKind.String)
        {
            opItem = condition;
            arguments = [];
        }
        else if (condition.Kind == JsonValueKind.Array && condition.Items!.Count > 0 && condition.Items[0].Kind == JsonValueKind.String)
        {
            opItem = condition.Items[0];
            arguments = condition.Items.Count > 1 ? condition.Items.GetRange(1, condition.Items.Count - 1) : [];
        }
        else
        {
            throw _source.Error(condition.Position, "\"is\" takes [operator, value] like [\"eq\",200], or \"empty\"");
        }

        string op = opItem.String!;
        switch (op)
        {
            case "eq" or "neq" or "gt" or "gte" or "lt" or "lte":
                {
                    var value = SingleArgument(op, condition, opItem, arguments);
                    var comparison = op switch
                    {
                        "eq" => ComparisonOperator.Equal,
                        "neq" => ComparisonOperator.NotEqual,
                        "gt" => ComparisonOperator.Greater,
                        "gte" => ComparisonOperator.GreaterOrEqual,
                        "lt" => ComparisonOperator.Less,
                        _ => ComparisonOperator.LessOrEqual,
                    };
                    var literal = FilterTyping.ForComparison(column, comparison, opItem.Position, value, _source);
                    return new ComparisonFilter(column, comparison, literal, position);
                }
            case "substring" or "isubstring" or "prefix" or "suffix" or "regex":
                {
                    var value = SingleArgument(op, condition, opItem, arguments);
                    var function = op switch
                    {
                        "substring" => FilterFunction.Substring,
                        "isubstring" => FilterFunction.ISubstring,
                        "prefix" => FilterFunction.Prefix,
                        "suffix" => FilterFunction.Suffix,
                        _ => FilterFunction.Regex,
                    };
                    var literal = FilterTyping.ForFunction(column, fieldValue.Position, function, op, value, opItem.Position, _source);
                    return new FunctionFilter(column, function, literal, position);
                }
            case "empty" or "is_null":
                if (arguments.Count > 0)
                {
                    throw _source.Error(arguments[0].Position, $"\"{op}\" takes no value");
                }
                return new FunctionFilter(column, op == "empty" ? FilterFunction.Empty : FilterFunction.IsNull, null, position);
            case "phrase_match" or "iphrase_match":
                throw _source.Error(opItem.Position, $"operator '{op}' is not supported");
            default:
                throw _source.Error(opItem.Position, $"unknown operator '{op}'", Suggestions.Nearest(op, Operators));
        }
    }

    private RawValue SingleArgument(string op, JsonTree.Item condition, JsonTree.Item opItem, IReadOnlyList<JsonTree.Item> arguments)
    {
        if (condition.Kind == JsonValueKind.String || arguments.Count == 0)
        {
            throw _source.Error(opItem.Position, $"\"{op}\" needs a value: [\"{op}\", value]");
        }
        if (arguments.Count > 1)
        {
            throw _source.Error(arguments[1].Position, $"\"{op}\" takes one value");
        }
        var item = arguments[0];
        return item.Kind switch
        {
            JsonValueKind.String => new RawValue(RawKind.String, item.String!, item.Position),
            JsonValueKind.True => new RawValue(RawKind.Boolean, true, item.Position),
            JsonValueKind.False => new RawValue(RawKind.Boolean, false, item.Position),
            JsonValueKind.Number => ReadNumber(item),
            JsonValueKind.Null => throw _source.Error(item.Position, "null is not a value: use \"is_null\" or \"empty\""),
            _ => throw _source.Error(item.Position, "expected a string, number or boolean value"),
        };
    }

    private RawValue ReadNumber(JsonTree.Item item)
    {
        string text = item.String!;
        if (text.AsSpan().IndexOfAny('.', 'e', 'E') < 0)
        {
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer))
            {
                throw _source.Error(item.Position, $"integer {text} is out of range");
            }
            return new RawValue(RawKind.Integer, integer, item.Position);
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) || !double.IsFinite(number))
        {
            throw _source.Error(item.Position, $"number {text} is out of range");
        }
        return new RawValue(RawKind.Decimal, number, item.Position);
    }
}

/// <summary>A JSON value tree whose nodes keep the character position of their first token.</summary>
internal static class JsonTree
{
    private static readonly JsonReaderOptions Options = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
        MaxDepth = 64,
    };

    internal sealed class Item(JsonValueKind kind, int position)
    {
        public JsonValueKind Kind { get; } = kind;

        /// <summary>0-based character index of the value's first character.</summary>
        public int Position { get; } = position;

        /// <summary>The unescaped string, or the raw text of a number.</summary>
        public string? String { get; init; }

        public List<Property>? Properties { get; init; }

        public List<Item>? Items { get; init; }
    }

    internal sealed record Property(string Key, int KeyPosition, Item Value);

    /// <summary>Reads one JSON value; syntax errors become positioned <see cref="FilterException"/>s.</summary>
    public static Item Read(string text, FilterSource source)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        var positions = new PositionMap(utf8);
        var reader = new Utf8JsonReader(utf8, Options);
        try
        {
            if (!reader.Read())
            {
                throw source.Error(0, "empty filter");
            }
            var root = ReadValue(ref reader, positions, source);
            if (reader.Read())
            {
                throw source.Error(positions.CharIndex(reader.TokenStartIndex), "unexpected data after the filter object");
            }
            return root;
        }
        catch (JsonException error)
        {
            long line = error.LineNumber ?? 0;
            long column = error.BytePositionInLine ?? 0;
            string reason = error.Message;
            int cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0)
            {
                reason = reason[..cut];
            }
            throw source.Error(positions.CharIndex(positions.LineStart(line) + column), "invalid JSON: " + reason.TrimEnd('.', ' '));
        }
    }

    private static Item ReadValue(ref Utf8JsonReader reader, PositionMap positions, FilterSource source)
    {
        int position = positions.CharIndex(reader.TokenStartIndex);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                {
                    var properties = new List<Property>();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                    {
                        int keyPosition = positions.CharIndex(reader.TokenStartIndex);
                        string key = reader.GetString()!;
                        foreach (var existing in properties)
                        {
                            if (existing.Key == key)
                            {
                                throw source.Error(keyPosition, $"key '{key}' is given twice");
                            }
                        }
                        reader.Read();
                        properties.Add(new Property(key, keyPosition, ReadValue(ref reader, positions, source)));
                    }
                    return new Item(JsonValueKind.Object, position) { Properties = properties };
                }
            case JsonTokenType.StartArray:
                {
                    var items = new List<Item>();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        items.Add(ReadValue(ref reader, positions, source));
                    }
                    return new Item(JsonValueKind.Array, position) { Items = items };
                }
            case JsonTokenType.String:
                return new Item(JsonValueKind.String, position) { String = reader.GetString() };
            case JsonTokenType.Number:
                return new Item(JsonValueKind.Number, position) { String = Encoding.UTF8.GetString(reader.ValueSpan) };
            case JsonTokenType.True:
                return new Item(JsonValueKind.True, position);
            case JsonTokenType.False:
                return new Item(JsonValueKind.False, position);
            case JsonTokenType.Null:
                return new Item(JsonValueKind.Null, position);
            default:
                throw source.Error(position, $"unexpected JSON token {reader.TokenType}");
        }
    }

    /// <summary>Maps UTF-8 byte offsets of the JSON to character indexes of the original string.</summary>
    private sealed class PositionMap(byte[] utf8)
    {
        public int CharIndex(long byteOffset)
        {
            int bytes = (int)Math.Clamp(byteOffset, 0, utf8.Length);
            return Encoding.UTF8.GetCharCount(utf8, 0, bytes);
        }

        /// <summary>Byte offset of the start of the 0-based line <paramref name="line"/>.</summary>
        public long LineStart(long line)
        {
            long offset = 0;
            for (long i = 0; i < line; i++)
            {
                int next = Array.IndexOf(utf8, (byte)'\n', (int)offset);
                if (next < 0)
                {
                    return utf8.Length;
                }
                offset = next + 1;
            }
            return offset;
        }
    }
}
