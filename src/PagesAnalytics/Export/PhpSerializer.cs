using System.Buffers;
using System.Buffers.Text;
using System.Data.Common;
using System.Globalization;
using System.Text;

namespace PagesAnalytics.Export;

/// <summary>
/// A forward-only writer of PHP's <c>serialize()</c> format into a stream, through one pooled buffer. String lengths are
/// UTF-8 byte counts, as PHP counts them; an array's element count comes before its elements, so the caller must know it
/// (<see cref="WriteArrayStart"/>). Nothing is escaped: the format is length-prefixed.
/// </summary>
public sealed class PhpSerializeWriter : IDisposable
{
    private const int BufferSize = 1 << 16;

    private readonly Stream _output;
    private byte[] _buffer;
    private int _used;

    /// <summary>Creates a writer over <paramref name="output"/>; <see cref="Flush"/> or dispose to push the tail.</summary>
    public PhpSerializeWriter(Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    }

    /// <summary>Bytes written so far but not yet handed to the stream.</summary>
    public int BytesPending => _used;

    /// <summary><c>a:N:{</c>.</summary>
    public void WriteArrayStart(long count)
    {
        WriteAscii("a:"u8);
        WriteDigits(count);
        WriteAscii(":{"u8);
    }

    /// <summary><c>}</c>.</summary>
    public void WriteArrayEnd() => WriteAscii("}"u8);

    /// <summary><c>i:N;</c> (also an integer array key).</summary>
    public void WriteInteger(long value)
    {
        WriteAscii("i:"u8);
        WriteDigits(value);
        WriteAscii(";"u8);
    }

    /// <summary><c>s:BYTES:"text";</c> (also a string array key).</summary>
    public void WriteString(ReadOnlySpan<char> value)
    {
        int bytes = Encoding.UTF8.GetByteCount(value);
        WriteAscii("s:"u8);
        WriteDigits(bytes);
        WriteAscii(":\""u8);
        Ensure(bytes);
        _used += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_used));
        WriteAscii("\";"u8);
    }

    /// <summary><c>s:BYTES:"text";</c> for text that is already UTF-8 (a key like <c>"pages"u8</c>).</summary>
    public void WriteUtf8String(ReadOnlySpan<byte> value)
    {
        WriteAscii("s:"u8);
        WriteDigits(value.Length);
        WriteAscii(":\""u8);
        WriteAscii(value);
        WriteAscii("\";"u8);
    }

    /// <summary><c>d:X;</c> with the shortest text that reads back to the same double (PHP 7.1+ does the same); NAN, INF, -INF as PHP spells them.</summary>
    public void WriteDouble(double value)
    {
        WriteAscii("d:"u8);
        if (double.IsNaN(value))
        {
            WriteAscii("NAN"u8);
        }
        else if (double.IsInfinity(value))
        {
            WriteAscii(value > 0 ? "INF"u8 : "-INF"u8);
        }
        else
        {
            Ensure(32);
            if (!value.TryFormat(_buffer.AsSpan(_used), out int written, "R", CultureInfo.InvariantCulture))
            {
                throw new InvalidOperationException("a double did not fit 32 bytes");
            }
            _used += written;
        }
        WriteAscii(";"u8);
    }

    /// <summary><c>b:0;</c> or <c>b:1;</c>.</summary>
    public void WriteBoolean(bool value) => WriteAscii(value ? "b:1;"u8 : "b:0;"u8);

    /// <summary><c>N;</c>.</summary>
    public void WriteNull() => WriteAscii("N;"u8);

    /// <summary>Hands the buffered bytes to the stream (without flushing the stream itself).</summary>
    public void Flush()
    {
        if (_used > 0)
        {
            _output.Write(_buffer, 0, _used);
            _used = 0;
        }
    }

    /// <summary>Flushes and returns the buffer to the pool.</summary>
    public void Dispose()
    {
        if (_buffer.Length == 0)
        {
            return;
        }
        try
        {
            Flush();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    private void WriteDigits(long value)
    {
        Ensure(20);
        if (!Utf8Formatter.TryFormat(value, _buffer.AsSpan(_used), out int written))
        {
            throw new InvalidOperationException("an integer did not fit 20 bytes");
        }
        _used += written;
    }

    private void WriteAscii(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_used));
        _used += bytes.Length;
    }

    private void Ensure(int bytes)
    {
        if (_buffer.Length - _used >= bytes)
        {
            return;
        }
        Flush();
        if (_buffer.Length < bytes)
        {
            // A single value larger than the buffer (a huge title): grow once for it.
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(bytes);
        }
    }
}

/// <summary>
/// Writes query results as the retired API v2's <c>output=php</c> answer: PHP <c>serialize()</c> of
/// <c>["pages" =&gt; [0 =&gt; ["url" =&gt; ..., ...], ...], "stats" =&gt; ["pages" =&gt; N]]</c>. Values follow
/// <see cref="V2ResponseWriter"/>: a missing date is <c>1970-01-01T00:00:00Z</c>, a missing count 0, a missing string "";
/// integers are <c>i:</c>, ratios <c>d:</c> (NULL ratios <c>N;</c>), dates and text <c>s:</c>. No trailing newline: PHP 8.3's
/// <c>unserialize()</c> warns about bytes after the value.
/// </summary>
public static class PhpResponseWriter
{

    /// <summary>
    /// How many rows a request returns: what is left of <paramref name="statsPages"/> after <paramref name="offset"/>,
    /// at most <paramref name="limit"/> (null: no limit).
    /// </summary>
    public static long ResultRows(long statsPages, long offset, long? limit)
    {
        long left = Math.Max(0, statsPages - Math.Max(0, offset));
        return limit is { } max ? Math.Min(left, Math.Max(0, max)) : left;
    }

    /// <summary>
    /// Streams the answer; <paramref name="rowCount"/> must be the number of rows <paramref name="reader"/> returns (the
    /// array length is written first). Returns the rows written; a reader that disagrees with the count is an
    /// <see cref="InvalidOperationException"/>, since the bytes already written cannot be taken back.
    /// </summary>
    public static long Write(DbDataReader reader, long rowCount, long statsPages, Stream output)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(output);
        var (names, kinds) = V2ResponseWriter.Describe(reader);
        using var php = new PhpSerializeWriter(output);
        php.WriteArrayStart(2);
        php.WriteUtf8String("pages"u8);
        php.WriteArrayStart(rowCount);
        long rows = 0;
        while (reader.Read())
        {
            if (rows == rowCount)
            {
                throw new InvalidOperationException($"the query returned more than the {rowCount} rows counted before it");
            }
            php.WriteInteger(rows);
            php.WriteArrayStart(names.Length);
            for (int i = 0; i < names.Length; i++)
            {
                php.WriteString(names[i]);
                WriteValue(php, reader, i, kinds[i]);
            }
            php.WriteArrayEnd();
            rows++;
            if (php.BytesPending > (1 << 15))
            {
                php.Flush();
            }
        }
        if (rows != rowCount)
        {
            throw new InvalidOperationException($"the query returned {rows} rows, {rowCount} were counted before it");
        }
        php.WriteArrayEnd();
        php.WriteUtf8String("stats"u8);
        php.WriteArrayStart(1);
        php.WriteUtf8String("pages"u8);
        php.WriteInteger(statsPages);
        php.WriteArrayEnd();
        php.WriteArrayEnd();
        return rows;
    }

    /// <summary>The API's error answer: <c>a:1:{s:5:"error";s:N:"message";}</c>.</summary>
    public static void WriteError(string message, Stream output)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var php = new PhpSerializeWriter(output);
        php.WriteArrayStart(1);
        php.WriteUtf8String("error"u8);
        php.WriteString(message);
        php.WriteArrayEnd();
    }

    private static void WriteValue(PhpSerializeWriter php, DbDataReader reader, int i, V2ResponseWriter.Kind kind)
    {
        bool isNull = reader.IsDBNull(i);
        switch (kind)
        {
            case V2ResponseWriter.Kind.Integer:
                php.WriteInteger(isNull ? 0 : Convert.ToInt64(reader.GetValue(i), CultureInfo.InvariantCulture));
                break;
            case V2ResponseWriter.Kind.Real:
                if (isNull)
                {
                    php.WriteNull();
                }
                else
                {
                    php.WriteDouble(reader.GetDouble(i));
                }
                break;
            case V2ResponseWriter.Kind.Boolean:
                php.WriteBoolean(!isNull && reader.GetBoolean(i));
                break;
            case V2ResponseWriter.Kind.Timestamp:
                php.WriteString(isNull ? V2ResponseWriter.EpochSentinel : TabularWriter.FormatTimestamp(reader.GetDateTime(i)));
                break;
            case V2ResponseWriter.Kind.Text:
                php.WriteString(isNull ? "" : reader.GetString(i));
                break;
            default:
                php.WriteString(isNull ? "" : TabularWriter.FormatValue(reader.GetValue(i)) ?? "");
                break;
        }
    }
}
