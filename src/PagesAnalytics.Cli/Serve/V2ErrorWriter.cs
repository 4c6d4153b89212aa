using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Xml;
using PagesAnalytics.Export;

namespace PagesAnalytics.Cli.Serve;

/// <summary>The API's error answers: <c>{"error":"..."}</c>, <c>&lt;AhrefsApiResponse&gt;&lt;error&gt;..&lt;/error&gt;&lt;/AhrefsApiResponse&gt;</c> or PHP <c>serialize(["error" =&gt; ...])</c>.</summary>
internal static class V2ErrorWriter
{
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Render(V2Output output, string message)
    {
        var buffer = new MemoryStream();
        switch (output)
        {
            case V2Output.Xml:
                var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = false, CloseOutput = false };
                using (var xml = XmlWriter.Create(buffer, settings))
                {
                    xml.WriteStartDocument();
                    xml.WriteStartElement("AhrefsApiResponse");
                    xml.WriteElementString("error", XmlSafe(message));
                    xml.WriteEndElement();
                    xml.WriteEndDocument();
                }
                buffer.WriteByte((byte)'\n');
                break;
            case V2Output.Php:
                PhpResponseWriter.WriteError(message, buffer);
                break;
            default:
                using (var json = new Utf8JsonWriter(buffer, JsonOptions))
                {
                    json.WriteStartObject();
                    json.WriteString("error", message);
                    json.WriteEndObject();
                }
                buffer.WriteByte((byte)'\n');
                break;
        }
        return buffer.ToArray();
    }

    /// <summary>A message may quote user text; XML 1.0 cannot carry most control characters at all.</summary>
    private static string XmlSafe(string value)
    {
        var safe = new StringBuilder(value.Length);
        foreach (char c in value)
        {
            safe.Append(c < 0x20 && c is not ('\t' or '\n' or '\r') ? '\uFFFD' : c);
        }
        return safe.ToString();
    }
}
