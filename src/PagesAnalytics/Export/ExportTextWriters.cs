using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace PagesAnalytics.Export;

/// <summary>
/// Writes Arrow record batches as CSV or NDJSON text, formatting values straight from the Arrow buffers into UTF-8
/// (no boxing, no .NET strings per value). Timestamps are ISO-8601 UTC with microseconds, always in the same shape
/// (<c>2013-11-20T09:46:29.000000Z</c>) so that type inference sees one format; dates <c>YYYY-MM-DD</c>; doubles
/// round-trippable. CSV: a header row, RFC 4180 quoting, NULL as an empty field and the empty string as <c>""</c> so
/// that readers can tell them apart. NDJSON: one object per line, NULL as <c>null</c>.
/// Supported Arrow types: utf8, int32, int64, double, timestamp (any unit, read as UTC), date32.
/// </summary>
internal sealed class ExportTextWriter
{
    private const int FlushAt = 1 << 20;
    private static readonly int EpochDayNumber = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
    private static readonly JsonWriterOptions JsonOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private readonly Stream _output;
    private readonly bool _csv;
    private readonly Apache.Arrow.Schema _schema;
    private readonly byte[][] _names;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushAt + (1 << 16));
    private readonly Utf8JsonWriter? _json;
    private bool _started;

    private ExportTextWriter(Stream output, Apache.Arrow.Schema schema, bool csv)
    {
        _output = output;
        _csv = csv;
        _schema = schema;
        _names = new byte[schema.FieldsList.Count][];
        for (int c = 0; c < _names.Length; c++)
        {
            var field = schema.FieldsList[c];
            _names[c] = Encoding.UTF8.GetBytes(field.Name);
            if (field.DataType.TypeId is not (ArrowTypeId.String or ArrowTypeId.Int32 or ArrowTypeId.Int64 or ArrowTypeId.Double
                or ArrowTypeId.Timestamp or ArrowTypeId.Date32))
            {
                throw new NotSupportedException($"column '{field.Name}' has Arrow type {field.DataType.Name}, which text export does not write");
            }
        }
        _json = csv ? null : new Utf8JsonWriter(_buffer, JsonOptions);
    }

    /// <summary>A CSV writer; the header is written with the first batch (or by <see cref="CompleteAsync"/>).</summary>
    public static ExportTextWriter Csv(Stream output, Apache.Arrow.Schema schema) => new(output, schema, csv: true);

    /// <summary>An NDJSON writer.</summary>
    public static ExportTextWriter Ndjson(Stream output, Apache.Arrow.Schema schema) => new(output, schema, csv: false);

    /// <summary>Writes every row of <paramref name="batch"/> (whose columns are the schema's, in order).</summary>
    public async Task WriteAsync(RecordBatch batch, CancellationToken ct)
    {
        ArrowTypes.EnsureMatches(_schema, batch);
        Start();
        int columns = batch.ColumnCount;
        var arrays = new IArrowArray[columns];
        for (int c = 0; c < columns; c++)
        {
            arrays[c] = batch.Column(c);
        }
        for (int row = 0; row < batch.Length; row++)
        {
            if (_csv)
            {
                WriteCsvRow(arrays, row);
            }
            else
            {
                WriteJsonRow(arrays, row);
            }
            if (_buffer.WrittenCount >= FlushAt)
            {
                await _output.WriteAsync(_buffer.WrittenMemory, ct).ConfigureAwait(false);
                _buffer.ResetWrittenCount();
            }
        }
    }

    /// <summary>Writes what is buffered (and the CSV header of an empty file) and flushes the stream.</summary>
    public async Task CompleteAsync(CancellationToken ct)
    {
        Start();
        await _output.WriteAsync(_buffer.WrittenMemory, ct).ConfigureAwait(false);
        _buffer.ResetWrittenCount();
        await _output.FlushAsync(ct).ConfigureAwait(false);
    }

    private void Start()
    {
        if (_started)
        {
            return;
        }
        _started = true;
        if (!_csv)
        {
            return;
        }
        for (int c = 0; c < _names.Length; c++)
        {
            if (c > 0)
            {
                Put((byte)',');
            }
            WriteCsvText(_names[c]);
        }
        Put((byte)'\n');
    }

    private void WriteCsvRow(IArrowArray[] arrays, int row)
    {
        for (int c = 0; c < arrays.Length; c++)
        {
            if (c > 0)
            {
                Put((byte)',');
            }
            var array = arrays[c];
            if (array.IsNull(row))
            {
                continue;
            }
            switch (array)
            {
                case StringArray text:
                    WriteCsvText(text.GetBytes(row));
                    break;
                default:
                    WriteScalar(array, row);
                    break;
            }
        }
        Put((byte)'\n');
    }

    private void WriteJsonRow(IArrowArray[] arrays, int row)
    {
        var json = _json!;
        json.Reset(_buffer);
        json.WriteStartObject();
        for (int c = 0; c < arrays.Length; c++)
        {
            json.WritePropertyName(_names[c]);
            var array = arrays[c];
            if (array.IsNull(row))
            {
                json.WriteNullValue();
                continue;
            }
            switch (array)
            {
                case StringArray text:
                    json.WriteStringValue(text.GetBytes(row));
                    break;
                case Int32Array int32:
                    json.WriteNumberValue(int32.Values[row]);
                    break;
                case Int64Array int64:
                    json.WriteNumberValue(int64.Values[row]);
                    break;
                case DoubleArray number when double.IsFinite(number.Values[row]):
                    json.WriteNumberValue(number.Values[row]);
                    break;
                case DoubleArray:
                    json.WriteNullValue();
                    break;
                default:
                    {
                        // Timestamps and dates as ISO-8601 strings.
                        Span<byte> text = stackalloc byte[40];
                        json.WriteStringValue(text[..FormatScalar(array, row, text)]);
                        break;
                    }
            }
        }
        json.WriteEndObject();
        json.Flush();
        Put((byte)'\n');
    }

    // int32/int64/double/timestamp/date32, unquoted.
    private void WriteScalar(IArrowArray array, int row) => _buffer.Advance(FormatScalar(array, row, _buffer.GetSpan(40)));

    private static int FormatScalar(IArrowArray array, int row, Span<byte> span)
    {
        int written;
        bool ok = array switch
        {
            Int32Array int32 => Utf8Formatter.TryFormat(int32.Values[row], span, out written),
            Int64Array int64 => Utf8Formatter.TryFormat(int64.Values[row], span, out written),
            DoubleArray number => number.Values[row].TryFormat(span, out written, "R", CultureInfo.InvariantCulture),
            TimestampArray timestamp => FormatTimestamp(timestamp, row, span, out written),
            Date32Array date => DateOnly.FromDayNumber(EpochDayNumber + date.Values[row])
                .TryFormat(span, out written, "yyyy-MM-dd", CultureInfo.InvariantCulture),
            _ => throw new NotSupportedException($"text export does not write {array.Data.DataType.Name}"),
        };
        if (!ok)
        {
            throw new InvalidOperationException("a value did not fit 40 bytes");
        }
        return written;
    }

    private static bool FormatTimestamp(TimestampArray array, int row, Span<byte> span, out int written)
    {
        long value = array.Values[row];
        var unit = ((TimestampType)array.Data.DataType).Unit;
        long ticks = unit switch
        {
            TimeUnit.Second => value * TimeSpan.TicksPerSecond,
            TimeUnit.Millisecond => value * TimeSpan.TicksPerMillisecond,
            TimeUnit.Microsecond => value * 10,
            _ => value / 100,
        };
        // Always six fractional digits: readers that infer types (DuckDB's read_json) fall back to text when the
        // values of a column come in different shapes.
        var utc = new DateTime(DateTime.UnixEpoch.Ticks + ticks, DateTimeKind.Utc);
        return utc.TryFormat(span, out written, "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
    }

    private void WriteCsvText(ReadOnlySpan<byte> text)
    {
        // Quoted when it holds a separator, a quote or a line break, and when empty (an unquoted empty field is NULL).
        if (text.Length > 0 && text.IndexOfAny("\",\r\n"u8) < 0)
        {
            Put(text);
            return;
        }
        Put((byte)'"');
        while (true)
        {
            int quote = text.IndexOf((byte)'"');
            if (quote < 0)
            {
                Put(text);
                break;
            }
            Put(text[..(quote + 1)]);
            Put((byte)'"');
            text = text[(quote + 1)..];
        }
        Put((byte)'"');
    }

    private void Put(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    private void Put(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);
}
