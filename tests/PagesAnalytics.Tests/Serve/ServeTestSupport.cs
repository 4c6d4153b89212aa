using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PagesAnalytics.Cli;
using PagesAnalytics.Cli.Serve;
using PagesAnalytics.Store;

namespace PagesAnalytics.Tests.Serve;

/// <summary>A running <c>pages serve</c> on an ephemeral loopback port, with its log and a client that decompresses nothing.</summary>
internal sealed class ServedStore : IAsyncDisposable
{
    private ServedStore(PagesServer server, LogWriter log, HttpClient client)
    {
        Server = server;
        Log = log;
        Client = client;
    }

    public PagesServer Server { get; }

    public LogWriter Log { get; }

    /// <summary>AutomaticDecompression is off, so tests see the bytes on the wire.</summary>
    public HttpClient Client { get; }

    public Uri Url => Server.Url;

    public static async Task<ServedStore> StartAsync(string storeDirectory, ServeOptions? options = null)
    {
        var log = new LogWriter();
        var server = await PagesServer.StartAsync(PagesStore.Open(storeDirectory), options ?? new ServeOptions { Port = 0 }, log);
        var client = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = server.Url,
            Timeout = TimeSpan.FromSeconds(60),
        };
        return new ServedStore(server, log, client);
    }

    public async Task<Answer> GetAsync(string pathAndQuery, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        configure?.Invoke(request);
        using var response = await Client.SendAsync(request);
        return await Answer.ReadAsync(response);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>A whole response: status, headers as text, the raw body and the body decoded per Content-Encoding.</summary>
internal sealed record Answer(HttpStatusCode Status, Version Version, IReadOnlyDictionary<string, string> Headers, byte[] Raw, string Text)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public static async Task<Answer> ReadAsync(HttpResponseMessage response)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in response.Headers)
        {
            headers[name] = string.Join(",", values);
        }
        foreach (var (name, values) in response.Content.Headers)
        {
            headers[name] = string.Join(",", values);
        }
        byte[] raw = await response.Content.ReadAsByteArrayAsync();
        byte[] decoded = headers.TryGetValue("Content-Encoding", out var encoding) ? Decode(raw, encoding) : raw;
        return new Answer(response.StatusCode, response.Version, headers, raw, new UTF8Encoding(false, true).GetString(decoded));
    }

    public static byte[] Decode(byte[] raw, string encoding)
    {
        using var input = new MemoryStream(raw);
        using Stream decoder = encoding switch
        {
            "gzip" => new System.IO.Compression.GZipStream(input, System.IO.Compression.CompressionMode.Decompress),
            "deflate" => new System.IO.Compression.ZLibStream(input, System.IO.Compression.CompressionMode.Decompress),
            _ => throw new InvalidOperationException($"unexpected Content-Encoding {encoding}"),
        };
        var output = new MemoryStream();
        decoder.CopyTo(output);
        return output.ToArray();
    }
}

/// <summary>A thread-safe text log: the server writes from many threads while a test reads.</summary>
internal sealed class LogWriter : TextWriter
{
    private readonly StringBuilder _text = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_text)
        {
            _text.Append(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_text)
        {
            _text.Append(value);
        }
    }

    public override void WriteLine(string? value)
    {
        lock (_text)
        {
            _text.Append(value).Append('\n');
        }
    }

    public string[] Lines()
    {
        lock (_text)
        {
            return _text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
    }

    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }
}

/// <summary>
/// An independent reader of PHP's <c>serialize()</c> format (the subset the API used), strict about byte lengths:
/// <c>s:N:"..."</c> must hold exactly N UTF-8 bytes. Returns the value as JSON nodes, so a php answer can be compared with
/// the json one: arrays keyed 0..n-1 become JSON arrays, string-keyed ones objects.
/// </summary>
internal sealed class PhpUnserializer
{
    private readonly byte[] _bytes;
    private int _pos;

    private PhpUnserializer(byte[] bytes) => _bytes = bytes;

    public static JsonNode? Parse(byte[] bytes)
    {
        var reader = new PhpUnserializer(bytes);
        var value = reader.ReadValue();
        if (reader._pos != bytes.Length)
        {
            throw new FormatException($"php: {bytes.Length - reader._pos} bytes after the value at {reader._pos}");
        }
        return value;
    }

    private JsonNode? ReadValue()
    {
        char kind = (char)_bytes[_pos];
        switch (kind)
        {
            case 'N':
                Expect("N;");
                return null;
            case 'b':
                Expect("b:");
                bool flag = ReadUntil(';') == "1";
                return JsonValue.Create(flag);
            case 'i':
                Expect("i:");
                return JsonValue.Create(long.Parse(ReadUntil(';'), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
            case 'd':
                Expect("d:");
                return JsonValue.Create(double.Parse(ReadUntil(';'), NumberStyles.Float, CultureInfo.InvariantCulture));
            case 's':
                return JsonValue.Create(ReadString());
            case 'a':
                Expect("a:");
                int count = int.Parse(ReadUntil(':'), NumberStyles.None, CultureInfo.InvariantCulture);
                Expect("{");
                var keys = new List<object>();
                var values = new List<JsonNode?>();
                for (int i = 0; i < count; i++)
                {
                    keys.Add(_bytes[_pos] == 'i' ? ReadIntegerKey() : ReadString());
                    values.Add(ReadValue());
                }
                Expect("}");
                bool list = true;
                for (int i = 0; i < keys.Count; i++)
                {
                    list &= keys[i] is long k && k == i;
                }
                if (list) // an empty array is a list too: "pages":[]
                {
                    return new JsonArray([.. values]);
                }
                var obj = new JsonObject();
                for (int i = 0; i < keys.Count; i++)
                {
                    obj.Add(Convert.ToString(keys[i], CultureInfo.InvariantCulture)!, values[i]);
                }
                return obj;
            default:
                throw new FormatException($"php: unexpected '{kind}' at {_pos}");
        }
    }

    private long ReadIntegerKey()
    {
        Expect("i:");
        return long.Parse(ReadUntil(';'), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    }

    private string ReadString()
    {
        Expect("s:");
        int length = int.Parse(ReadUntil(':'), NumberStyles.None, CultureInfo.InvariantCulture);
        Expect("\"");
        if (_pos + length > _bytes.Length)
        {
            throw new FormatException($"php: string of {length} bytes runs past the end at {_pos}");
        }
        string text = new UTF8Encoding(false, true).GetString(_bytes, _pos, length);
        _pos += length;
        Expect("\";");
        return text;
    }

    private string ReadUntil(char end)
    {
        int start = _pos;
        while (_pos < _bytes.Length && _bytes[_pos] != end)
        {
            _pos++;
        }
        if (_pos == _bytes.Length)
        {
            throw new FormatException($"php: missing '{end}' after {start}");
        }
        return Encoding.ASCII.GetString(_bytes, start, _pos++ - start);
    }

    private void Expect(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (_pos + i >= _bytes.Length || _bytes[_pos + i] != text[i])
            {
                throw new FormatException($"php: expected '{text}' at {_pos}");
            }
        }
        _pos += text.Length;
    }
}
