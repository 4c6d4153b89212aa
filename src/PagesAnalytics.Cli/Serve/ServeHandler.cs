using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using DuckDB.NET.Data;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using PagesAnalytics.Export;
using PagesAnalytics.Query;

namespace PagesAnalytics.Cli.Serve;

/// <summary>
/// Answers <c>GET /?from=...</c> like the retired v2 endpoint. The request thread only checks the request; the DuckDB work
/// and the writing run on a thread of their own with a pooled session, rows going out as they are read (through gzip or
/// deflate when the client asks), so neither a large answer nor a slow reader holds up other requests.
/// </summary>
internal sealed class ServeHandler : IDisposable
{
    private const int BodyBufferBytes = 1 << 15;

    private readonly ServeOptions _options;
    private readonly SessionPool _pool;
    private readonly TextWriter _log;
    private readonly Lock _logGate = new();
    private readonly byte[]? _token;
    private readonly StatsCache _stats;
    private readonly SemaphoreSlim? _queries;
    private int _active;

    public ServeHandler(ServeOptions options, SessionPool pool, TextWriter log)
    {
        _options = options;
        _pool = pool;
        _log = log;
        _token = options.Token is null ? null : Encoding.UTF8.GetBytes(options.Token);
        _stats = new StatsCache(options.StatsCacheEntries);
        _queries = options.MaxQueries > 0 ? new SemaphoreSlim(options.MaxQueries) : null;
    }

    /// <summary>Requests being answered right now.</summary>
    public int ActiveRequests => Volatile.Read(ref _active);

    /// <summary>DuckDB sessions opened so far.</summary>
    public int SessionsOpened => _pool.SessionsOpened;

    /// <summary>Requests whose <c>stats.pages</c> came from the cache, and those that ran the count.</summary>
    public (long Hits, long Misses) StatsCacheCounts => (_stats.Hits, _stats.Misses);

    public async Task HandleAsync(HttpContext http)
    {
        Interlocked.Increment(ref _active);
        long started = Stopwatch.GetTimestamp();
        var outcome = new Outcome();
        var shape = V2RequestParser.TryReadOutput(http.Request.Query) ?? V2Output.Json;
        try
        {
            await ServeAsync(http, outcome).ConfigureAwait(false);
        }
        catch (V2RequestException error)
        {
            await WriteErrorAsync(http, shape, error.Status, error.Message, outcome).ConfigureAwait(false);
        }
        catch (FilterException error)
        {
            await WriteErrorAsync(http, shape, StatusCodes.Status400BadRequest, error.Summary, outcome).ConfigureAwait(false);
        }
        catch (Exception error) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away: whatever the writing threw on the way out is no news.
            outcome.Note = "aborted: the client went away" + (error is OperationCanceledException ? "" : " (" + OneLine(error) + ")");
        }
        catch (Exception error)
        {
            outcome.Note = "failed: " + OneLine(error);
            if (http.Response.HasStarted)
            {
                // Half an answer must not look like a whole one: drop the connection.
                http.Abort();
            }
            else if (error is DuckDBException duck && IsUserError(duck))
            {
                await WriteErrorAsync(http, shape, StatusCodes.Status400BadRequest, "query: " + FirstLine(duck.Message), outcome).ConfigureAwait(false);
            }
            else
            {
                await WriteErrorAsync(http, shape, StatusCodes.Status500InternalServerError, "internal error (see the server's log)", outcome).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _active);
            Log(http, outcome, Stopwatch.GetElapsedTime(started));
        }
    }

    public void Dispose()
    {
        _pool.Dispose();
        _queries?.Dispose();
    }

    private async Task ServeAsync(HttpContext http, Outcome outcome)
    {
        var request = http.Request;
        if (request.Path != "/")
        {
            throw new V2RequestException(StatusCodes.Status404NotFound, $"not found: {request.Path} (ask GET /?from=pages_extended&target=...)");
        }
        if (!HttpMethods.IsGet(request.Method))
        {
            http.Response.Headers.Allow = "GET";
            throw new V2RequestException(StatusCodes.Status405MethodNotAllowed, $"method {request.Method} is not allowed (GET)");
        }
        CheckToken(request.Query);
        var v2 = V2RequestParser.Parse(request.Query, _options.MaxLimit);
        var compiled = PagesQueryCompiler.Compile(v2.Query);
        string? encoding = ChooseEncoding(request.Headers.AcceptEncoding);
        // At most MaxQueries requests run DuckDB at once; more would only share the same cores and thrash memory. A
        // request gives its slot back once its result is ready, so streaming to a slow client holds nothing but its session.
        var slot = _queries is null ? null : new QuerySlot(_queries);
        if (slot is not null)
        {
            await _queries!.WaitAsync(http.RequestAborted).ConfigureAwait(false);
        }
        try
        {
            // DuckDB calls block, and so do the writes under back-pressure: a dedicated thread, not a pool thread.
            await Task.Factory.StartNew(() => Answer(http, v2, compiled, encoding, outcome, slot),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        finally
        {
            slot?.Release();
        }
    }

    private void CheckToken(IQueryCollection query)
    {
        if (_token is null)
        {
            return; // old clients always send token=; without --token any value is fine
        }
        string? given = query["token"].Count == 1 ? query["token"][0] : null;
        if (string.IsNullOrEmpty(given))
        {
            throw new V2RequestException(StatusCodes.Status401Unauthorized, query["token"].Count > 1 ? "token: given more than once" : "token: missing");
        }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _token))
        {
            throw new V2RequestException(StatusCodes.Status401Unauthorized, "token: not valid");
        }
    }

    private void Answer(HttpContext http, V2Request request, CompiledPagesQuery compiled, string? encoding, Outcome outcome, QuerySlot? slot)
    {
        var ct = http.RequestAborted;
        var lease = _pool.Rent();
        bool healthy = false;
        try
        {
            var connection = lease.Session.Connection;
            // Counts are cached only for a store state that has settled (see SessionPool), so a fresh commit is never hidden.
            string? key = lease.Settled ? StatsCache.Key(compiled) : null;
            if (key is null || !_stats.TryGet(lease.Generation, key, out long stats))
            {
                using (var count = compiled.CreateCommand(connection, compiled.CountSql))
                {
                    stats = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
                }
                if (key is not null)
                {
                    _stats.Set(lease.Generation, key, stats);
                }
            }
            long rows = PhpResponseWriter.ResultRows(stats, request.Query.Offset, request.Query.Limit);
            ct.ThrowIfCancellationRequested();
            using var command = (DuckDBCommand)compiled.CreateCommand(connection, compiled.Sql);
            command.UseStreamingMode = true; // rows come out in chunks as the writer asks for them
            using var reader = command.ExecuteReader(); // runs the query up to its first rows (sorts, windows and all)
            slot?.Release();

            var response = http.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = ContentType(request.Output);
            response.Headers["X-Rows-Cost"] = compiled.Cost(rows).ToString(CultureInfo.InvariantCulture);
            if (request.LimitCapped)
            {
                response.Headers["X-Limit-Capped"] = _options.MaxLimit.ToString(CultureInfo.InvariantCulture);
            }
            response.Headers.Vary = "Accept-Encoding";
            if (encoding is not null)
            {
                response.Headers.ContentEncoding = encoding;
            }
            outcome.Status = StatusCodes.Status200OK;
            http.Features.Get<IHttpBodyControlFeature>()!.AllowSynchronousIO = true;
            using (var body = OpenBody(response.Body, encoding, ct))
            {
                outcome.Rows = request.Output switch
                {
                    V2Output.Xml => V2ResponseWriter.WriteXml(reader, stats, body),
                    V2Output.Php => PhpResponseWriter.Write(reader, rows, stats, body),
                    _ => V2ResponseWriter.WriteJson(reader, stats, body),
                };
            }
            healthy = true;
        }
        finally
        {
            _pool.Return(lease, healthy);
        }
    }

    private static Stream OpenBody(Stream responseBody, string? encoding, CancellationToken ct)
    {
        Stream target = encoding switch
        {
            "gzip" => new GZipStream(responseBody, CompressionLevel.Fastest, leaveOpen: true),
            "deflate" => new ZLibStream(responseBody, CompressionLevel.Fastest, leaveOpen: true),
            _ => new NonClosingStream(responseBody),
        };
        return new CancellableWriteStream(new BufferedStream(target, BodyBufferBytes), ct);
    }

    private async Task WriteErrorAsync(HttpContext http, V2Output shape, int status, string message, Outcome outcome)
    {
        outcome.Status = status;
        outcome.Note = "error: " + message;
        var response = http.Response;
        if (response.HasStarted)
        {
            http.Abort();
            return;
        }
        byte[] body = V2ErrorWriter.Render(shape, message);
        response.StatusCode = status;
        response.ContentType = ContentType(shape);
        response.ContentLength = body.Length;
        try
        {
            await response.Body.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception) when (http.RequestAborted.IsCancellationRequested)
        {
            outcome.Note += " (the client went away)";
        }
    }

    /// <summary>gzip when the client accepts it (old clients send <c>gzip,deflate</c>), else deflate (zlib), else none.</summary>
    internal static string? ChooseEncoding(StringValues acceptEncoding)
    {
        double gzip = -1, deflate = -1, any = -1;
        foreach (var header in acceptEncoding)
        {
            if (header is null)
            {
                continue;
            }
            foreach (var item in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var parts = item.Split(';', StringSplitOptions.TrimEntries);
                double q = 1;
                for (int i = 1; i < parts.Length; i++)
                {
                    if (parts[i].StartsWith("q=", StringComparison.OrdinalIgnoreCase)
                        && !double.TryParse(parts[i].AsSpan(2), NumberStyles.Float, CultureInfo.InvariantCulture, out q))
                    {
                        q = 0;
                    }
                }
                switch (parts[0].ToLowerInvariant())
                {
                    case "gzip" or "x-gzip":
                        gzip = q;
                        break;
                    case "deflate":
                        deflate = q;
                        break;
                    case "*":
                        any = q;
                        break;
                }
            }
        }
        if (gzip < 0)
        {
            gzip = any;
        }
        if (gzip > 0 && gzip >= deflate)
        {
            return "gzip";
        }
        return deflate > 0 ? "deflate" : null;
    }

    private static string ContentType(V2Output output) => output switch
    {
        V2Output.Xml => "text/xml; charset=utf-8",
        V2Output.Php => "text/plain; charset=utf-8",
        _ => "application/json; charset=utf-8",
    };

    /// <summary>DuckDB errors a request can cause with valid-looking values (a bad regex, a value out of range); others are ours.</summary>
    private static bool IsUserError(DuckDBException error)
    {
        string message = error.Message;
        return message.StartsWith("Invalid Input Error", StringComparison.Ordinal)
            || message.StartsWith("Conversion Error", StringComparison.Ordinal)
            || message.StartsWith("Out of Range Error", StringComparison.Ordinal);
    }

    private void Log(HttpContext http, Outcome outcome, TimeSpan elapsed)
    {
        var request = http.Request;
        int status = outcome.Status ?? http.Response.StatusCode;
        var line = new StringBuilder()
            .Append(DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)).Append(' ')
            .Append(request.Method).Append(' ').Append(request.Path.ToUriComponent()).Append(MaskToken(request.QueryString.Value))
            .Append(' ').Append(request.Protocol)
            .Append(" status=").Append(status.ToString(CultureInfo.InvariantCulture))
            .Append(" rows=").Append(outcome.Rows.ToString(CultureInfo.InvariantCulture))
            .Append(" ms=").Append(elapsed.TotalMilliseconds.ToString("F1", CultureInfo.InvariantCulture));
        if (outcome.Note is not null)
        {
            line.Append(' ').Append(outcome.Note);
        }
        lock (_logGate)
        {
            _log.WriteLine(line.ToString());
        }
    }

    /// <summary>The raw query string with the token's value replaced by <c>***</c>: logs get passed around.</summary>
    internal static string MaskToken(string? query)
    {
        if (string.IsNullOrEmpty(query))
        {
            return "";
        }
        var parts = query.TrimStart('?').Split('&');
        for (int i = 0; i < parts.Length; i++)
        {
            if (parts[i].StartsWith("token=", StringComparison.OrdinalIgnoreCase) && parts[i].Length > "token=".Length)
            {
                parts[i] = "token=***";
            }
        }
        return "?" + string.Join('&', parts);
    }

    private static string FirstLine(string text)
    {
        int newline = text.IndexOfAny(['\r', '\n']);
        return newline < 0 ? text : text[..newline];
    }

    private static string OneLine(Exception error) => error.GetType().Name + ": " + FirstLine(error.Message);

    /// <summary>One request's hold on the query gate, released exactly once: when its result is ready, or when it ends.</summary>
    private sealed class QuerySlot(SemaphoreSlim gate)
    {
        private int _released;

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }

    private sealed class Outcome
    {
        public int? Status { get; set; }

        public long Rows { get; set; }

        public string? Note { get; set; }
    }
}

/// <summary>Writes through to a stream and checks a token before every write, so a writer stops when its client is gone.</summary>
internal sealed class CancellableWriteStream(Stream inner, CancellationToken ct) : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ct.ThrowIfCancellationRequested();
        inner.Write(buffer);
    }

    public override void WriteByte(byte value)
    {
        ct.ThrowIfCancellationRequested();
        inner.WriteByte(value);
    }

    public override void Flush()
    {
        ct.ThrowIfCancellationRequested();
        inner.Flush();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>The response body seen through a stream whose disposal flushes but does not close it (Kestrel owns it).</summary>
internal sealed class NonClosingStream(Stream inner) : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
