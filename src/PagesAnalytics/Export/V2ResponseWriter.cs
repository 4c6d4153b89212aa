using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Xml;

namespace PagesAnalytics.Export;

/// <summary>
/// Writes query results in the retired API v2's own response shapes, so a saved v2 client can read them:
/// JSON <c>{"pages":[...],"stats":{"pages":N}}</c> and XML
/// <c>&lt;AhrefsApiResponse&gt;&lt;pages&gt;&lt;page&gt;...&lt;/page&gt;&lt;/pages&gt;&lt;stats&gt;...&lt;/stats&gt;&lt;/AhrefsApiResponse&gt;</c>.
/// As the API did, a missing date is written as <c>1970-01-01T00:00:00Z</c>, a missing count as 0 and a missing string as "".
/// Rows are streamed one at a time.
/// </summary>
public static class V2ResponseWriter
{
    /// <summary>The API's "never" date.</summary>
    public const string EpochSentinel = "1970-01-01T00:00:00Z";

    private static readonly JsonWriterOptions JsonOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>How the v2 shapes write a column's values (a NULL count as 0, a NULL date as the sentinel, ...).</summary>
    internal enum Kind { Text, Integer, Real, Timestamp, Boolean, Other }

    /// <summary>Writes the JSON response; returns the number of pages written.</summary>
    public static long WriteJson(DbDataReader reader, long statsPages, Stream output)
    {
        var (names, kinds) = Describe(reader);
        using var json = new Utf8JsonWriter(output, JsonOptions);
        json.WriteStartObject();
        json.WriteStartArray("pages");
        long rows = 0;
        while (reader.Read())
        {
            json.WriteStartObject();
            for (int i = 0; i < names.Length; i++)
            {
                json.WritePropertyName(names[i]);
                bool isNull = reader.IsDBNull(i);
                switch (kinds[i])
                {
                    case Kind.Integer:
                        json.WriteNumberValue(isNull ? 0 : Convert.ToInt64(reader.GetValue(i), CultureInfo.InvariantCulture));
                        break;
                    case Kind.Real:
                        if (isNull || !double.IsFinite(reader.GetDouble(i)))
                        {
                            json.WriteNullValue();
                        }
                        else
                        {
                            json.WriteNumberValue(reader.GetDouble(i));
                        }
                        break;
                    case Kind.Boolean:
                        json.WriteBooleanValue(!isNull && reader.GetBoolean(i));
                        break;
                    default:
                        json.WriteStringValue(Text(reader, i, kinds[i], isNull));
                        break;
                }
            }
            json.WriteEndObject();
            rows++;
            if (json.BytesPending > 1 << 16)
            {
                json.Flush();
            }
        }
        json.WriteEndArray();
        json.WriteStartObject("stats");
        json.WriteNumber("pages", statsPages);
        json.WriteEndObject();
        json.WriteEndObject();
        json.Flush();
        output.WriteByte((byte)'\n');
        return rows;
    }

    /// <summary>Writes the XML response; returns the number of pages written.</summary>
    public static long WriteXml(DbDataReader reader, long statsPages, Stream output)
    {
        var (names, kinds) = Describe(reader);
        var settings = new XmlWriterSettings
        {
            Encoding = new UTF8Encoding(false),
            Indent = false,
            CloseOutput = false,
            CheckCharacters = false, // titles may hold control characters; they are escaped below
        };
        long rows = 0;
        using (var xml = XmlWriter.Create(output, settings))
        {
            xml.WriteStartDocument();
            xml.WriteStartElement("AhrefsApiResponse");
            xml.WriteStartElement("pages");
            while (reader.Read())
            {
                xml.WriteStartElement("page");
                for (int i = 0; i < names.Length; i++)
                {
                    bool isNull = reader.IsDBNull(i);
                    string value = kinds[i] switch
                    {
                        Kind.Integer => isNull ? "0" : Convert.ToInt64(reader.GetValue(i), CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
                        Kind.Real => isNull ? "" : reader.GetDouble(i).ToString("R", CultureInfo.InvariantCulture),
                        Kind.Boolean => !isNull && reader.GetBoolean(i) ? "1" : "0",
                        _ => Text(reader, i, kinds[i], isNull),
                    };
                    xml.WriteStartElement(names[i]);
                    xml.WriteString(XmlSafe(value));
                    xml.WriteFullEndElement(); // <title></title>, as the API wrote empty values

                }
                xml.WriteEndElement();
                rows++;
            }
            xml.WriteEndElement();
            xml.WriteStartElement("stats");
            xml.WriteElementString("pages", statsPages.ToString(CultureInfo.InvariantCulture));
            xml.WriteEndElement();
            xml.WriteEndElement();
            xml.WriteEndDocument();
        }
        output.WriteByte((byte)'\n');
        return rows;
    }

    private static string Text(DbDataReader reader, int i, Kind kind, bool isNull)
    {
        if (kind == Kind.Timestamp)
        {
            return isNull ? EpochSentinel : TabularWriter.FormatTimestamp(reader.GetDateTime(i));
        }
        return isNull ? "" : TabularWriter.FormatValue(reader.GetValue(i)) ?? "";
    }

    /// <summary>Column names and value kinds of a result, shared by the JSON, XML and PHP shapes.</summary>
    internal static (string[] Names, Kind[] Kinds) Describe(DbDataReader reader)
    {
        var names = new string[reader.FieldCount];
        var kinds = new Kind[reader.FieldCount];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = reader.GetName(i);
            var type = reader.GetFieldType(i);
            kinds[i] = type == typeof(string) ? Kind.Text
                : type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte) || type == typeof(System.Numerics.BigInteger) ? Kind.Integer
                : type == typeof(double) || type == typeof(float) || type == typeof(decimal) ? Kind.Real
                : type == typeof(DateTime) || type == typeof(DateTimeOffset) ? Kind.Timestamp
                : type == typeof(bool) ? Kind.Boolean
                : Kind.Other;
        }
        return (names, kinds);
    }

    /// <summary>XML 1.0 cannot carry most control characters even escaped; they become U+FFFD.</summary>
    private static string XmlSafe(string value)
    {
        foreach (char c in value)
        {
            if (c < 0x20 && c is not ('\t' or '\n' or '\r'))
            {
                var safe = new StringBuilder(value.Length);
                foreach (char d in value)
                {
                    safe.Append(d < 0x20 && d is not ('\t' or '\n' or '\r') ? '\uFFFD' : d);
                }
                return safe.ToString();
            }
        }
        return value;
    }
}
