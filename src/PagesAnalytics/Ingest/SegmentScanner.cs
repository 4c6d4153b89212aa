using System.Buffers;
using System.Runtime.CompilerServices;
using Apache.Arrow;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Ingest;

/// <summary>
/// A direct scanner of the records of one segment of a "pages" array (see <see cref="ParallelResponseReader"/>),
/// for the shape archived responses almost always have: records of known keys whose values are plain integers,
/// strings, API timestamps or <c>null</c>. It makes exactly the <see cref="PageBatchBuilder"/> calls
/// <see cref="ResponseReader"/> makes for the same bytes, without a token reader in between.
/// It accepts only input it fully understands and knows to be valid JSON; for anything else (an unknown key, a
/// number with a fraction or 19 digits, a count written as a string, another date format, a lone surrogate escape,
/// any syntax error...) it answers <see cref="Outcome.Unsupported"/> and the segment is read by
/// <see cref="ResponseReader"/> instead, which gives the exact answer or error. UTF-8 validity is not checked here:
/// the caller checks the bytes of the records it takes, in bulk.
/// </summary>
internal sealed class SegmentScanner
{
    /// <summary>How a call of <see cref="Scan"/> ended.</summary>
    internal enum Outcome : byte
    {
        /// <summary>The segment ended: at a record starting at or after the stop offset, or at the array's end.</summary>
        Ended,

        /// <summary>The data ended inside a record: call again with the bytes from <see cref="Position"/> and more.</summary>
        NeedMore,

        /// <summary>Something this scanner does not handle: read the segment with <see cref="ResponseReader"/>.</summary>
        Unsupported,

        /// <summary>Without a batch list: the builder is full after the record that ends at <see cref="Position"/>.</summary>
        BatchFull,
    }

    private enum Step : byte { Ok, NeedMore, Unsupported }

    // Bytes that end the plain run of a JSON string: the quote, a backslash, and control characters (not allowed raw).
    private static readonly SearchValues<byte> StringStops = SearchValues.Create(BuildStops());

    private static readonly ColumnKind[] Kinds = [.. PagesSchema.Columns.Take(PagesSchema.ApiColumnCount).Select(c => c.Kind)];

    private readonly PageBatchBuilder _builder;
    private readonly List<RecordBatch>? _batches;
    private byte[] _scratch = new byte[256];
    private bool _expectComma;
    private long _nextOrdinal;

    /// <summary>
    /// A scanner filling <paramref name="builder"/>, adding a batch to <paramref name="batches"/> whenever it is full;
    /// without a list, <see cref="Scan"/> returns <see cref="Outcome.BatchFull"/> instead and the caller builds it.
    /// </summary>
    public SegmentScanner(PageBatchBuilder builder, List<RecordBatch>? batches)
    {
        _builder = builder;
        _batches = batches;
    }

    /// <summary>Offset in the last data given where the unread part starts: just after the last complete record.</summary>
    public int Position { get; private set; }

    /// <summary>After <see cref="Outcome.Ended"/>: absolute offset of the record or closing bracket where the segment stopped.</summary>
    public long End { get; private set; } = -1;

    /// <summary>After <see cref="Outcome.Ended"/>: true when the segment stopped at the array's closing bracket.</summary>
    public bool EndsArray { get; private set; }

    /// <summary>Records read (their row ordinals are 0, 1, 2, ... unless <see cref="NextOrdinal"/> was set).</summary>
    public long Rows => _nextOrdinal;

    /// <summary>Row ordinal of the next record read.</summary>
    public long NextOrdinal
    {
        get => _nextOrdinal;
        set => _nextOrdinal = value;
    }

    /// <summary>
    /// True when the data given next starts after a record (a comma or the array's end comes first); false at the
    /// start of a segment (a record or the array's end). Set by each record read.
    /// </summary>
    public bool ExpectComma
    {
        get => _expectComma;
        set => _expectComma = value;
    }

    /// <summary>
    /// Reads records from <paramref name="data"/>, whose first byte is at absolute offset <paramref name="origin"/>,
    /// until a record starts at or after <paramref name="stopAt"/> or the array ends. The first call starts where a
    /// record (or the array's end) is expected; later calls continue from a previous <see cref="Position"/>.
    /// </summary>
    public Outcome Scan(ReadOnlySpan<byte> data, long origin, long stopAt)
    {
        Position = 0;
        int pos = 0;
        while (true)
        {
            pos = SkipWhitespace(data, pos);
            if (pos >= data.Length)
            {
                return Outcome.NeedMore;
            }
            byte c = data[pos];
            if (_expectComma)
            {
                if (c == (byte)']')
                {
                    return EndAt(origin + pos, endsArray: true);
                }
                if (c != (byte)',')
                {
                    return Outcome.Unsupported;
                }
                pos = SkipWhitespace(data, pos + 1);
                if (pos >= data.Length)
                {
                    return Outcome.NeedMore;
                }
                c = data[pos];
                if (c != (byte)'{')
                {
                    return Outcome.Unsupported; // a trailing comma, or not a record
                }
            }
            else if (c == (byte)']')
            {
                return EndAt(origin + pos, endsArray: true);
            }
            else if (c != (byte)'{')
            {
                return Outcome.Unsupported;
            }

            if (origin + pos >= stopAt)
            {
                return EndAt(origin + pos, endsArray: false);
            }
            var step = ScanRecord(data, ref pos);
            if (step != Step.Ok)
            {
                _builder.AbandonRow();
                return step == Step.NeedMore ? Outcome.NeedMore : Outcome.Unsupported;
            }
            _builder.EndRow(_nextOrdinal++);
            _expectComma = true;
            Position = pos;
            if (_builder.IsFull)
            {
                if (_batches is null)
                {
                    return Outcome.BatchFull;
                }
                _batches.Add(_builder.Build());
            }
        }
    }

    /// <summary>Adds the rows of an unfinished batch to the batches (when the segment is complete).</summary>
    public void Flush()
    {
        if (_builder.Count > 0 && _batches is not null)
        {
            _batches.Add(_builder.Build());
        }
    }

    private Outcome EndAt(long absolute, bool endsArray)
    {
        End = absolute;
        EndsArray = endsArray;
        return Outcome.Ended;
    }

    /// <summary>One record from its '{' to just after its '}'.</summary>
    private Step ScanRecord(ReadOnlySpan<byte> data, ref int pos)
    {
        var builder = _builder;
        int expected = 0;
        pos = SkipWhitespace(data, pos + 1);
        if (pos >= data.Length)
        {
            return Step.NeedMore;
        }
        while (true)
        {
            if (data[pos] != (byte)'"')
            {
                return Step.Unsupported; // '}' of an empty record (it has no url), or not a key
            }
            pos++;

            // The key: most often the column after the previous one, so try that name first.
            int column = -1;
            if (expected < PagesSchema.ApiColumnCount)
            {
                var name = PagesSchema.Utf8Names[expected];
                int after = pos + name.Length;
                if (after < data.Length && data[after] == (byte)'"' && data.Slice(pos, name.Length).SequenceEqual(name))
                {
                    column = expected;
                    pos = after + 1;
                }
            }
            if (column < 0)
            {
                int length = data[pos..].IndexOfAny(StringStops);
                if (length < 0)
                {
                    return Step.NeedMore;
                }
                if (data[pos + length] != (byte)'"')
                {
                    return Step.Unsupported; // an escaped or invalid key
                }
                column = PagesSchema.ApiColumnIndexOf(data.Slice(pos, length), expected);
                if (column < 0)
                {
                    return Step.Unsupported; // unknown keys are counted and skipped by ResponseReader
                }
                pos += length + 1;
            }
            expected = column + 1;

            pos = SkipWhitespace(data, pos);
            if (pos >= data.Length)
            {
                return Step.NeedMore;
            }
            if (data[pos] != (byte)':')
            {
                return Step.Unsupported;
            }
            pos = SkipWhitespace(data, pos + 1);
            if (pos >= data.Length)
            {
                return Step.NeedMore;
            }

            var step = ScanValue(data, ref pos, column, builder);
            if (step != Step.Ok)
            {
                return step;
            }

            pos = SkipWhitespace(data, pos);
            if (pos >= data.Length)
            {
                return Step.NeedMore;
            }
            byte c = data[pos];
            if (c == (byte)',')
            {
                pos = SkipWhitespace(data, pos + 1);
                if (pos >= data.Length)
                {
                    return Step.NeedMore;
                }
                continue;
            }
            if (c != (byte)'}')
            {
                return Step.Unsupported;
            }
            pos++;
            return builder.IsSet(PagesSchema.Url) ? Step.Ok : Step.Unsupported;
        }
    }

    private Step ScanValue(ReadOnlySpan<byte> data, ref int pos, int column, PageBatchBuilder builder)
    {
        byte c = data[pos];
        var kind = Kinds[column];
        if (c == (byte)'"')
        {
            pos++;
            return kind switch
            {
                ColumnKind.Utf8 => ScanString(data, ref pos, column, builder),
                ColumnKind.Timestamp => ScanTimestamp(data, ref pos, column, builder),
                _ => Step.Unsupported, // a count written as a string: ResponseReader's rules
            };
        }
        if (c == (byte)'n')
        {
            if (pos + 4 > data.Length)
            {
                return Step.NeedMore;
            }
            if (data[pos + 1] != (byte)'u' || data[pos + 2] != (byte)'l' || data[pos + 3] != (byte)'l')
            {
                return Step.Unsupported;
            }
            pos += 4;
            // What follows must not continue the literal ("nullx"); the caller expects ',' or '}' after whitespace.
            builder.SetNull(column);
            return Step.Ok;
        }
        if (kind is ColumnKind.Int32 or ColumnKind.Int64 && (c == (byte)'-' || (uint)(c - '0') <= 9))
        {
            return ScanInteger(data, ref pos, column, kind, builder);
        }
        return Step.Unsupported;
    }

    /// <summary>An optional minus and 1 to 18 digits, no leading zero, no fraction or exponent.</summary>
    private static Step ScanInteger(ReadOnlySpan<byte> data, ref int pos, int column, ColumnKind kind, PageBatchBuilder builder)
    {
        int i = pos;
        bool negative = data[i] == (byte)'-';
        if (negative)
        {
            i++;
        }
        int digitsStart = i;
        long value = 0;
        while (i < data.Length)
        {
            uint digit = (uint)(data[i] - '0');
            if (digit > 9)
            {
                break;
            }
            value = (value * 10) + digit;
            i++;
            if (i - digitsStart > 18)
            {
                return Step.Unsupported;
            }
        }
        if (i >= data.Length)
        {
            return Step.NeedMore; // the number may go on
        }
        int digits = i - digitsStart;
        if (digits == 0 || (digits > 1 && data[digitsStart] == (byte)'0'))
        {
            return Step.Unsupported; // "-" alone, or a leading zero (not JSON)
        }
        byte next = data[i];
        if (next is (byte)'.' or (byte)'e' or (byte)'E')
        {
            return Step.Unsupported; // a fraction or an exponent: TryGetInt64's rules
        }
        if (negative)
        {
            value = -value;
        }
        if (kind == ColumnKind.Int32)
        {
            if (value is < int.MinValue or > int.MaxValue)
            {
                return Step.Unsupported;
            }
            builder.SetInt32(column, (int)value);
        }
        else
        {
            builder.SetInt64(column, value);
        }
        pos = i;
        return Step.Ok;
    }

    /// <summary>The API's <c>YYYY-MM-DDTHH:MM:SSZ</c>, unescaped; the epoch sentinel is NULL.</summary>
    private static Step ScanTimestamp(ReadOnlySpan<byte> data, ref int pos, int column, PageBatchBuilder builder)
    {
        const int Length = 20;
        if (pos + Length >= data.Length)
        {
            return Step.NeedMore;
        }
        if (data[pos + Length] != (byte)'"' || !ResponseReader.TryParseUtcSeconds(data.Slice(pos, Length), out long micros))
        {
            return Step.Unsupported;
        }
        if (micros == 0)
        {
            builder.SetNull(column);
        }
        else
        {
            builder.SetInt64(column, micros);
        }
        pos += Length + 1;
        return Step.Ok;
    }

    /// <summary>A string value from just after its opening quote; escapes are decoded into scratch.</summary>
    private Step ScanString(ReadOnlySpan<byte> data, ref int pos, int column, PageBatchBuilder builder)
    {
        int length = data[pos..].IndexOfAny(StringStops);
        if (length < 0)
        {
            return Step.NeedMore;
        }
        byte stop = data[pos + length];
        if (stop == (byte)'"')
        {
            builder.SetString(column, data.Slice(pos, length));
            pos += length + 1;
            return Step.Ok;
        }
        if (stop != (byte)'\\')
        {
            return Step.Unsupported; // a raw control character
        }

        int i = pos;
        int written = 0;
        while (true)
        {
            // data[i..i+length] is plain, data[i+length] is a backslash.
            Append(data.Slice(i, length), ref written);
            i += length;
            if (i + 1 >= data.Length)
            {
                return Step.NeedMore;
            }
            byte escaped = data[i + 1];
            switch (escaped)
            {
                case (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t':
                    AppendByte(Unescape(escaped), ref written);
                    i += 2;
                    break;
                case (byte)'u':
                {
                    if (i + 6 > data.Length)
                    {
                        return Step.NeedMore;
                    }
                    int unit = ParseHex4(data.Slice(i + 2, 4));
                    if (unit < 0)
                    {
                        return Step.Unsupported;
                    }
                    i += 6;
                    int codePoint = unit;
                    if (unit is >= 0xD800 and <= 0xDBFF)
                    {
                        if ((i < data.Length && data[i] != (byte)'\\') || (i + 1 < data.Length && data[i + 1] != (byte)'u'))
                        {
                            return Step.Unsupported; // a lone high surrogate: ResponseReader reports it
                        }
                        if (i + 6 > data.Length)
                        {
                            return Step.NeedMore;
                        }
                        int low = data[i] == (byte)'\\' && data[i + 1] == (byte)'u' ? ParseHex4(data.Slice(i + 2, 4)) : -1;
                        if (low is < 0xDC00 or > 0xDFFF)
                        {
                            return Step.Unsupported; // a lone high surrogate: ResponseReader reports it
                        }
                        codePoint = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        i += 6;
                    }
                    else if (unit is >= 0xDC00 and <= 0xDFFF)
                    {
                        return Step.Unsupported; // a lone low surrogate
                    }
                    AppendCodePoint(codePoint, ref written);
                    break;
                }
                default:
                    return Step.Unsupported; // not a JSON escape
            }

            length = data[i..].IndexOfAny(StringStops);
            if (length < 0)
            {
                return Step.NeedMore;
            }
            stop = data[i + length];
            if (stop == (byte)'"')
            {
                Append(data.Slice(i, length), ref written);
                builder.SetString(column, _scratch.AsSpan(0, written));
                pos = i + length + 1;
                return Step.Ok;
            }
            if (stop != (byte)'\\')
            {
                return Step.Unsupported;
            }
        }
    }

    private void Append(ReadOnlySpan<byte> bytes, ref int written)
    {
        Reserve(written + bytes.Length);
        bytes.CopyTo(_scratch.AsSpan(written));
        written += bytes.Length;
    }

    private void AppendByte(byte value, ref int written)
    {
        Reserve(written + 1);
        _scratch[written++] = value;
    }

    private void AppendCodePoint(int codePoint, ref int written)
    {
        Reserve(written + 4);
        var s = _scratch;
        if (codePoint < 0x80)
        {
            s[written++] = (byte)codePoint;
        }
        else if (codePoint < 0x800)
        {
            s[written++] = (byte)(0xC0 | (codePoint >> 6));
            s[written++] = (byte)(0x80 | (codePoint & 0x3F));
        }
        else if (codePoint < 0x10000)
        {
            s[written++] = (byte)(0xE0 | (codePoint >> 12));
            s[written++] = (byte)(0x80 | ((codePoint >> 6) & 0x3F));
            s[written++] = (byte)(0x80 | (codePoint & 0x3F));
        }
        else
        {
            s[written++] = (byte)(0xF0 | (codePoint >> 18));
            s[written++] = (byte)(0x80 | ((codePoint >> 12) & 0x3F));
            s[written++] = (byte)(0x80 | ((codePoint >> 6) & 0x3F));
            s[written++] = (byte)(0x80 | (codePoint & 0x3F));
        }
    }

    private void Reserve(int needed)
    {
        if (needed > _scratch.Length)
        {
            System.Array.Resize(ref _scratch, Math.Max(needed, _scratch.Length * 2));
        }
    }

    /// <summary>The byte a one-letter JSON escape stands for.</summary>
    private static byte Unescape(byte letter) => letter switch
    {
        (byte)'b' => 0x08,
        (byte)'f' => 0x0C,
        (byte)'n' => 0x0A,
        (byte)'r' => 0x0D,
        (byte)'t' => 0x09,
        _ => letter, // '"', '\\' and '/' stand for themselves
    };

    private static int ParseHex4(ReadOnlySpan<byte> hex)
    {
        int value = 0;
        for (int k = 0; k < 4; k++)
        {
            int digit = HexDigit(hex[k]);
            if (digit < 0)
            {
                return -1;
            }
            value = (value << 4) | digit;
        }
        return value;
    }

    private static int HexDigit(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipWhitespace(ReadOnlySpan<byte> data, int pos)
    {
        while (pos < data.Length)
        {
            byte b = data[pos];
            if (b > (byte)' ' || (b != (byte)' ' && b != (byte)'\n' && b != (byte)'\r' && b != (byte)'\t'))
            {
                break;
            }
            pos++;
        }
        return pos;
    }

    private static byte[] BuildStops()
    {
        var stops = new byte[34];
        for (int i = 0; i < 32; i++)
        {
            stops[i] = (byte)i;
        }
        stops[32] = (byte)'"';
        stops[33] = (byte)'\\';
        return stops;
    }
}
