using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace PagesAnalytics.Export;

/// <summary>Text formats for query results.</summary>
public enum TextFormat
{
    /// <summary>Comma-separated values with a header row (RFC 4180 quoting).</summary>
    Csv,
    /// <summary>One JSON array of objects.</summary>
    Json,
    /// <summary>One JSON object per line.</summary>
    Ndjson,
}

/// <summary>
/// Streams the rows of a <see cref="DbDataReader"/> as CSV, JSON or NDJSON, one row at a time. Timestamps are
/// written as ISO-8601 UTC (<c>2013-11-20T09:46:29Z</c>), dates as <c>YYYY-MM-DD</c>, NULL as empty (CSV) or null.
/// </summary>
public static class TabularWriter
{
    private static readonly JsonWriterOptions JsonOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    /// <summary>Writes every row of <paramref name="reader"/>; returns the number of rows.</summary>
    public static long Write(DbDataReader reader, Stream output, TextFormat format)
    {
        return format switch
        {
            TextFormat.Csv => WriteCsv(reader, output),
            _ => WriteJson(reader, output, format == TextFormat.Ndjson),
        };
    }

    /// <summary>The text form of one value, as CSV and tables show it; null for NULL.</summary>
    public static string? FormatValue(object? value) => value switch
    {
        null or DBNull => null,
        string s => s,
        DateTime d => FormatTimestamp(d),
        DateTimeOffset o => FormatTimestamp(o.UtcDateTime),
        DateOnly date => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        double x => x.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>ISO-8601 UTC with a Z, fractional seconds only when present.</summary>
    public static string FormatTimestamp(DateTime value)
    {
        var utc = DateTime.SpecifyKind(value, DateTimeKind.Utc);
        return utc.Ticks % TimeSpan.TicksPerSecond == 0
            ? utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : utc.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF'Z'", CultureInfo.InvariantCulture);
    }

    private static long WriteCsv(DbDataReader reader, Stream output)
    {
        using var text = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        text.NewLine = "\n";
        for (int i = 0; i < reader.FieldCount; i++)
        {
            if (i > 0)
            {
                text.Write(',');
            }
            WriteCsvField(text, reader.GetName(i));
        }
        text.WriteLine();
        long rows = 0;
        while (reader.Read())
        {
            for (int i = 0; i < reader.FieldCount; i++)
            {
                if (i > 0)
                {
                    text.Write(',');
                }
                if (!reader.IsDBNull(i))
                {
                    WriteCsvField(text, FormatValue(reader.GetValue(i)) ?? "");
                }
            }
            text.WriteLine();
            rows++;
        }
        return rows;
    }

    private static void WriteCsvField(StreamWriter text, string value)
    {
        if (value.AsSpan().IndexOfAny("\",\r\n") < 0)
        {
            text.Write(value);
            return;
        }
        text.Write('"');
        text.Write(value.Replace("\"", "\"\"", StringComparison.Ordinal));
        text.Write('"');
    }

    private static long WriteJson(DbDataReader reader, Stream output, bool perLine)
    {
        var names = new string[reader.FieldCount];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = reader.GetName(i);
        }
        long rows = 0;
        var writer = new Utf8JsonWriter(output, JsonOptions);
        if (!perLine)
        {
            output.WriteByte((byte)'[');
        }
        while (reader.Read())
        {
            if (!perLine && rows > 0)
            {
                output.WriteByte((byte)',');
            }
            if (!perLine)
            {
                output.WriteByte((byte)'\n');
            }
            writer.Reset(output);
            writer.WriteStartObject();
            for (int i = 0; i < names.Length; i++)
            {
                writer.WritePropertyName(names[i]);
                WriteJsonValue(writer, reader.IsDBNull(i) ? null : reader.GetValue(i));
            }
            writer.WriteEndObject();
            writer.Flush();
            if (perLine)
            {
                output.WriteByte((byte)'\n');
            }
            rows++;
        }
        if (!perLine)
        {
            output.Write(rows > 0 ? "\n]\n"u8 : "]\n"u8);
        }
        output.Flush();
        return rows;
    }

    private static void WriteJsonValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null or DBNull:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case int i:
                writer.WriteNumberValue(i);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case short s16:
                writer.WriteNumberValue(s16);
                break;
            case byte u8:
                writer.WriteNumberValue(u8);
                break;
            case sbyte i8:
                writer.WriteNumberValue(i8);
                break;
            case ushort u16:
                writer.WriteNumberValue(u16);
                break;
            case uint u32:
                writer.WriteNumberValue(u32);
                break;
            case ulong u64:
                writer.WriteNumberValue(u64);
                break;
            case decimal m:
                writer.WriteNumberValue(m);
                break;
            case double d when double.IsFinite(d):
                writer.WriteNumberValue(d);
                break;
            case float f when float.IsFinite(f):
                writer.WriteNumberValue(f);
                break;
            case System.Numerics.BigInteger big:
                writer.WriteRawValue(big.ToString(CultureInfo.InvariantCulture), skipInputValidation: true);
                break;
            default:
                writer.WriteStringValue(FormatValue(value));
                break;
        }
    }
}
