using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Ingest;

/// <summary>Settings of one <see cref="ResponseReader"/>.</summary>
public sealed record ResponseReaderOptions
{
    /// <summary>Rows per yielded batch unless told otherwise.</summary>
    public const int DefaultBatchRows = 65_536;

    /// <summary>Initial size of the pooled read buffer; it grows only when one token does not fit.</summary>
    public const int DefaultBufferBytes = 256 * 1024;

    /// <summary>Rows per yielded batch (the last one may be smaller).</summary>
    public int BatchRows { get; init; } = DefaultBatchRows;

    /// <summary>Initial size of the read buffer in bytes.</summary>
    public int BufferBytes { get; init; } = DefaultBufferBytes;

    /// <summary>Value of the <c>source_id</c> column of every row.</summary>
    public int SourceId { get; init; }

    /// <summary>Name of the input used in error messages (a file name, or <c>-</c> for stdin).</summary>
    public string SourceName { get; init; } = "<stream>";

    /// <summary>
    /// On malformed input, end reading at the break point instead of throwing: the complete records before it
    /// are yielded and <see cref="ResponseReader.SalvageError"/> says where and why it stopped.
    /// </summary>
    public bool Salvage { get; init; }

    /// <summary>
    /// Read plain records with <see cref="SegmentScanner"/> between token-reader records (the same rows and errors,
    /// faster); false reads every token with <see cref="Utf8JsonReader"/>.
    /// </summary>
    public bool Scanner { get; init; } = true;

    internal void Validate()
    {
        if (BatchRows < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchRows), BatchRows, "BatchRows must be at least 1");
        }
        if (BufferBytes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BufferBytes), BufferBytes, "BufferBytes must be at least 1");
        }
        if (SourceId < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(SourceId), SourceId, "SourceId must not be negative");
        }
    }
}

/// <summary>
/// Streams one Ahrefs API v2 <c>pages_extended</c> (or <c>pages</c>) response into Arrow record batches of
/// <see cref="PagesSchema.ArrowSchema"/>. The input is read through one pooled buffer with
/// <see cref="Utf8JsonReader"/>, its <see cref="JsonReaderState"/> carried across refills, so memory does not
/// depend on the size of the response. Keys may come in any order; unknown keys are skipped and counted;
/// missing keys, JSON <c>null</c> and the epoch sentinel <c>1970-01-01T00:00:00Z</c> become NULL.
/// </summary>
public sealed class ResponseReader
{
    private enum Mode : byte
    {
        Root,          // before the root object
        RootProperty,  // in the root object, expecting a key or its end
        RootValue,     // expecting the value of a root key (_rootKey)
        PagesArray,    // in "pages", expecting a record or the array's end
        PageProperty,  // in a record, expecting a key or the record's end
        PageValue,     // expecting the value of column _column (or -1: unknown key)
        StatsProperty, // in "stats", expecting a key or its end
        StatsValue,    // expecting the value of a stats key (_statsKeyIsPages)
        Skip,          // inside an ignored object/array, until depth _skipDepth closes
        Done,          // the root object has closed
        SegmentStart,  // segment mode: expecting the '[' put in front of the segment
        SegmentEnd,    // segment mode: the segment has ended (see SegmentEnd)
    }

    private enum RootKey : byte { Unknown, Pages, Stats, Error }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private const long EpochSentinelMicros = 0;

    private readonly Stream _input;
    private readonly ResponseReaderOptions _options;
    private readonly PageBatchBuilder _batch;

    private byte[] _buffer;
    private int _start;             // first unconsumed byte in _buffer
    private int _end;               // end of valid data in _buffer
    private long _bufferOrigin;     // absolute offset of _buffer[0] in the response
    private long _linesBeforeOrigin;
    private long _lineStartBeforeOrigin;
    private bool _final;
    private JsonReaderState _state;

    private Mode _mode = Mode.Root;
    private Mode _afterSkip;
    private int _skipDepth;
    private RootKey _rootKey;
    private bool _statsKeyIsPages;
    private int _column;
    private int _expectedColumn;
    private long _recordIndex = -1;   // ordinal of the record being read; -1 outside records
    private long _nextOrdinal;        // row_ordinal of the next record: continues across responses of one input
    private bool _sawPages;
    private byte[] _scratch = [];
    private bool _allValid = true;    // every byte before _validatedTo is valid UTF-8
    private long _validatedTo;        // absolute offset

    // Records after the first of an array are read by a SegmentScanner where it can (see TryScanRecords); the token
    // reader then continues from a state made fresh for that point, so its line and column counters restart there:
    // (line 0, column _counterShift) stands for absolute offset _counterBase, which has _counterBaseLines newlines
    // before it. Errors are placed with these (see FromJsonException).
    private SegmentScanner? _scanner;
    private int _scanPause;           // record ends to let pass before trying the scanner again
    private int _scanBackoff = 1;
    private long _counterBase;
    private long _counterBaseLines;
    private int _counterShift;

    // Segment mode (see ParallelResponseReader): the input is '[' followed by the bytes of a "pages" array from
    // an absolute offset; positions are shifted by _segmentShift and the segment stops at the first record that
    // starts at or after _segmentStopAt, or at the array's end.
    private readonly bool _segment;
    private readonly long _segmentShift;
    private readonly long _segmentStopAt;
    private readonly long _segmentReadLimit;

    /// <summary>Creates a reader over <paramref name="input"/>; nothing is read until batches are enumerated.</summary>
    public ResponseReader(Stream input, ResponseReaderOptions? options = null)
        : this(input, options, builder: null, firstOrdinal: 0)
    {
    }

    /// <summary>A reader whose first record gets row_ordinal <paramref name="firstOrdinal"/>, optionally reusing a batch builder.</summary>
    internal ResponseReader(Stream input, ResponseReaderOptions? options, PageBatchBuilder? builder, long firstOrdinal)
    {
        ArgumentNullException.ThrowIfNull(input);
        _options = options ?? new ResponseReaderOptions();
        _options.Validate();
        _input = input;
        _buffer = [];
        _batch = builder ?? new PageBatchBuilder(_options.BatchRows, _options.SourceId);
        _nextOrdinal = firstOrdinal;
        _scanner = _options.Scanner ? new SegmentScanner(_batch, batches: null) : null;
    }

    /// <summary>
    /// A reader of one segment of a "pages" array: <paramref name="input"/> yields '[' and then the bytes of the
    /// file from absolute offset <paramref name="origin"/>, where a record (or the array's end) starts. It reads
    /// records until the first one starting at or after <paramref name="stopAt"/> (not read) or the array's end;
    /// <see cref="SegmentEnd"/> tells where. Reading past <paramref name="readLimit"/> fails the segment.
    /// Row ordinals start at 0.
    /// </summary>
    internal ResponseReader(Stream input, ResponseReaderOptions options, PageBatchBuilder builder, long origin, long stopAt, long readLimit)
        : this(input, options, builder, firstOrdinal: 0)
    {
        _scanner = null; // segments come here when the scanner handed them back
        _segment = true;
        _segmentShift = origin - 1;
        _segmentStopAt = stopAt;
        _segmentReadLimit = readLimit;
        _mode = Mode.SegmentStart;
    }

    /// <summary>Segment mode: the absolute offset of the record (or of the array's closing bracket) where the segment stopped.</summary>
    internal long SegmentEnd { get; private set; } = -1;

    /// <summary>Segment mode: true when the segment stopped at the array's closing bracket.</summary>
    internal bool SegmentEndsArray { get; private set; }

    /// <summary>Rows read so far (all rows once enumeration has completed).</summary>
    public long Rows { get; private set; }

    /// <summary><c>stats.pages</c> of the response, when it has one.</summary>
    public long? StatsPages { get; private set; }

    /// <summary>Rows read by the <see cref="SegmentScanner"/> rather than token by token (for tests and benchmarks).</summary>
    internal long ScannedRows { get; private set; }

    /// <summary>Keys the schema does not know, skipped so far (with their whole values).</summary>
    public long UnknownKeys { get; private set; }

    /// <summary>Bytes of the response read from the input so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Responses found in the input: several when responses were written back to back or one per line.</summary>
    public int Responses { get; private set; }

    /// <summary>With <see cref="ResponseReaderOptions.Salvage"/>: where and why reading stopped early; null if it did not.</summary>
    public ResponseFormatException? SalvageError { get; private set; }

    /// <summary>
    /// Reads the response to its end, yielding a batch every <see cref="ResponseReaderOptions.BatchRows"/> rows
    /// and one for the remainder (none for an empty <c>pages</c>). Each batch is owned by the caller, who
    /// disposes it. Throws <see cref="ResponseFormatException"/> for malformed input and
    /// <see cref="ApiErrorResponseException"/> for an <c>{"error":...}</c> response.
    /// </summary>
    public async IAsyncEnumerable<RecordBatch> ReadBatchesAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        if ((_mode != Mode.Root && _mode != Mode.SegmentStart) || _buffer.Length != 0)
        {
            throw new InvalidOperationException("a ResponseReader reads its input once");
        }
        _buffer = ArrayPool<byte>.Shared.Rent(_options.BufferBytes);
        // Several responses may follow each other (paging loops append them, or write one per line).
        // A segment's records sit one level less deep than in the whole response (its '[' stands for the root
        // object and "pages"), so it allows one level less: nesting refused there is refused here too.
        _state = new JsonReaderState(new JsonReaderOptions { AllowMultipleValues = true, MaxDepth = _segment ? 63 : 64 });
        try
        {
            bool bomChecked = false;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                await FillAsync(ct).ConfigureAwait(false);
                if (!bomChecked)
                {
                    if (_end - _start < Utf8Bom.Length && !_final)
                    {
                        continue;
                    }
                    if (_buffer.AsSpan(_start, _end - _start).StartsWith(Utf8Bom))
                    {
                        _start += Utf8Bom.Length;
                    }
                    bomChecked = true;
                }
                bool full;
                while (TryParse(out full) && full)
                {
                    yield return _batch.Build();
                }
                if (_final || SalvageError is not null || _mode == Mode.SegmentEnd)
                {
                    break;
                }
            }
            if (SalvageError is null && _mode != Mode.SegmentEnd)
            {
                TryGuard(CheckComplete);
            }
            if (_batch.Count > 0)
            {
                yield return _batch.Build();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            _scratch = [];
        }
    }

    /// <summary>Moves the unconsumed tail to the front, grows the buffer if a token fills it, and reads more.</summary>
    private async ValueTask FillAsync(CancellationToken ct)
    {
        if (_final)
        {
            return;
        }
        if (_start > 0)
        {
            var consumed = _buffer.AsSpan(0, _start);
            int newlines = consumed.Count((byte)'\n');
            if (newlines > 0)
            {
                _linesBeforeOrigin += newlines;
                _lineStartBeforeOrigin = _bufferOrigin + consumed.LastIndexOf((byte)'\n') + 1;
            }
            int tail = _end - _start;
            _buffer.AsSpan(_start, tail).CopyTo(_buffer);
            _bufferOrigin += _start;
            _start = 0;
            _end = tail;
        }
        if (_segment && _bufferOrigin + _end + _segmentShift > _segmentReadLimit)
        {
            throw new SegmentOverrunException();
        }
        if (_end == _buffer.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(checked(_buffer.Length * 2));
            _buffer.AsSpan(0, _end).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = grown;
        }
        int read;
        try
        {
            read = await _input.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            // A corrupt compressed stream: the break point is where the decoded data ends.
            long at = _bufferOrigin + _end;
            var error = new ResponseFormatException(_options.SourceName, null, LineOf(at).Line, at, CurrentPath(),
                "the compressed input is corrupt: " + ex.Message, ex);
            if (!_options.Salvage)
            {
                throw error;
            }
            SalvageError = error;
            _final = true;
            return;
        }
        if (read == 0)
        {
            _final = true;
        }
        _end += read;
        BytesRead += read;
        ValidateNewBytes();
    }

    /// <summary>
    /// Checks the bytes read since the last call are UTF-8, all at once (vectorized), instead of each string value
    /// on its own. Once anything invalid is seen, every string is checked on its own from then on, so the error
    /// still names the string that holds the bytes. A sequence cut by the end of the buffer waits for the next read.
    /// </summary>
    private void ValidateNewBytes()
    {
        if (!_allValid)
        {
            return;
        }
        int from = (int)Math.Max(0, _validatedTo - _bufferOrigin);
        int cut = _end;
        if (!_final)
        {
            for (int k = 1; k <= 3 && cut - k >= from; k++)
            {
                byte b = _buffer[cut - k];
                if (b < 0x80)
                {
                    break;
                }
                if (b >= 0xC0)
                {
                    int length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
                    if (length > k)
                    {
                        cut -= k;
                    }
                    break;
                }
            }
        }
        if (cut > from && !System.Text.Unicode.Utf8.IsValid(_buffer.AsSpan(from, cut - from)))
        {
            _allValid = false;
        }
        _validatedTo = _bufferOrigin + cut;
    }

    /// <summary>False when salvaging stopped reading at a break point (see <see cref="SalvageError"/>).</summary>
    private bool TryParse(out bool full)
    {
        bool batchFull = false;
        bool ok = TryGuard(() => batchFull = Parse());
        full = batchFull;
        return ok;
    }

    /// <summary>Runs a step; with salvage on, a format error ends reading instead of escaping.</summary>
    private bool TryGuard(Action step)
    {
        try
        {
            step();
            return true;
        }
        catch (ResponseFormatException ex) when (_options.Salvage)
        {
            SalvageError ??= ex;
            _batch.AbandonRow();
            return false;
        }
    }

    private void CheckComplete()
    {
        if (Responses == 0 && _mode == Mode.Root)
        {
            ThrowFormat(_bufferOrigin + _end, _bufferOrigin + _end == 0 ? "the input is empty" : "the input holds no JSON value");
        }
        if (_mode != Mode.Done)
        {
            // Utf8JsonReader reports an incomplete document itself; this guards the reader's contract.
            ThrowFormat(_bufferOrigin + _end, "unexpected end of data");
        }
    }

    /// <summary>Parses buffered tokens; true when the batch became full (more may remain), false when more input is needed.</summary>
    private bool Parse()
    {
        var reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _final, _state);
        bool full;
        try
        {
            full = ParseTokens(ref reader);
        }
        catch (JsonException ex)
        {
            throw FromJsonException(ex);
        }
        _start += (int)reader.BytesConsumed;
        _state = reader.CurrentState;
        return full;
    }

    private bool ParseTokens(ref Utf8JsonReader reader)
    {
        while (reader.Read())
        {
            switch (_mode)
            {
                case Mode.PageValue:
                    ReadPageValue(ref reader);
                    break;
                case Mode.PageProperty:
                    if (reader.TokenType == JsonTokenType.PropertyName)
                    {
                        _column = ColumnOf(ref reader);
                        _mode = Mode.PageValue;
                    }
                    else
                    {
                        EndRecord(ref reader);
                        if (_batch.IsFull || (_scanner is not null && TryScanRecords(ref reader)))
                        {
                            return true;
                        }
                    }
                    break;
                case Mode.PagesArray:
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        if (_segment && _bufferOrigin + _start + reader.TokenStartIndex + _segmentShift >= _segmentStopAt)
                        {
                            SegmentEnd = _bufferOrigin + _start + reader.TokenStartIndex + _segmentShift;
                            _mode = Mode.SegmentEnd;
                            return false;
                        }
                        _recordIndex = _nextOrdinal++;
                        _mode = Mode.PageProperty;
                    }
                    else if (reader.TokenType == JsonTokenType.EndArray)
                    {
                        _recordIndex = -1;
                        _mode = Mode.RootProperty;
                        if (_segment)
                        {
                            SegmentEnd = _bufferOrigin + _start + reader.TokenStartIndex + _segmentShift;
                            SegmentEndsArray = true;
                            _mode = Mode.SegmentEnd;
                            return false;
                        }
                    }
                    else
                    {
                        ThrowAt(ref reader, $"each element of \"pages\" must be an object, got {Describe(ref reader)}");
                    }
                    break;
                case Mode.Skip:
                    if ((reader.TokenType == JsonTokenType.EndObject || reader.TokenType == JsonTokenType.EndArray)
                        && reader.CurrentDepth == _skipDepth)
                    {
                        _mode = _afterSkip;
                    }
                    break;
                case Mode.SegmentStart:
                    // The '[' put in front of the segment's bytes.
                    _sawPages = true;
                    _mode = Mode.PagesArray;
                    break;
                case Mode.SegmentEnd:
                    return false;
                case Mode.Root:
                case Mode.Done:
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        ThrowAt(ref reader, $"a response must be a JSON object, got {Describe(ref reader)}");
                    }
                    _sawPages = false;
                    _mode = Mode.RootProperty;
                    break;
                case Mode.RootProperty:
                    if (reader.TokenType == JsonTokenType.PropertyName)
                    {
                        _rootKey = reader.ValueTextEquals("pages"u8) ? RootKey.Pages
                            : reader.ValueTextEquals("stats"u8) ? RootKey.Stats
                            : reader.ValueTextEquals("error"u8) ? RootKey.Error
                            : RootKey.Unknown;
                        _mode = Mode.RootValue;
                    }
                    else
                    {
                        // EndObject of a response.
                        if (!_sawPages)
                        {
                            ThrowAt(ref reader, "the response has no \"pages\" array");
                        }
                        Responses++;
                        _mode = Mode.Done;
                    }
                    break;
                case Mode.RootValue:
                    ReadRootValue(ref reader);
                    break;
                case Mode.StatsProperty:
                    if (reader.TokenType == JsonTokenType.PropertyName)
                    {
                        _statsKeyIsPages = reader.ValueTextEquals("pages"u8);
                        if (!_statsKeyIsPages)
                        {
                            UnknownKeys++;
                        }
                        _mode = Mode.StatsValue;
                    }
                    else
                    {
                        _mode = Mode.RootProperty;
                    }
                    break;
                case Mode.StatsValue:
                    if (_statsKeyIsPages && reader.TokenType != JsonTokenType.Null)
                    {
                        // Every page of a paging loop repeats the total: keep the largest.
                        long total = ReadInt64(ref reader, "stats.pages");
                        StatsPages = StatsPages is { } seen ? Math.Max(seen, total) : total;
                        _mode = Mode.StatsProperty;
                    }
                    else
                    {
                        SkipValue(ref reader, Mode.StatsProperty);
                    }
                    break;
            }
        }
        return false;
    }

    private void ReadRootValue(ref Utf8JsonReader reader)
    {
        switch (_rootKey)
        {
            case RootKey.Pages:
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    ThrowAt(ref reader, $"\"pages\" must be an array, got {Describe(ref reader)}");
                }
                if (_sawPages)
                {
                    ThrowAt(ref reader, "the response has more than one \"pages\" array");
                }
                _sawPages = true;
                _mode = Mode.PagesArray;
                break;
            case RootKey.Stats:
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    _mode = Mode.StatsProperty;
                }
                else if (reader.TokenType == JsonTokenType.Null)
                {
                    _mode = Mode.RootProperty;
                }
                else
                {
                    ThrowAt(ref reader, $"\"stats\" must be an object, got {Describe(ref reader)}");
                }
                break;
            case RootKey.Error:
                string message = reader.TokenType switch
                {
                    JsonTokenType.String => Encoding.UTF8.GetString(ValueBytes(ref reader)),
                    JsonTokenType.StartObject or JsonTokenType.StartArray => $"({Describe(ref reader)}; see the file for details)",
                    _ => Describe(ref reader),
                };
                throw new ApiErrorResponseException(_options.SourceName, message);
            default:
                UnknownKeys++;
                SkipValue(ref reader, Mode.RootProperty);
                break;
        }
    }

    private void SkipValue(ref Utf8JsonReader reader, Mode after)
    {
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            _skipDepth = reader.CurrentDepth;
            _afterSkip = after;
            _mode = Mode.Skip;
        }
        else
        {
            _mode = after;
        }
    }

    private int ColumnOf(ref Utf8JsonReader reader)
    {
        // A key that names a column is ASCII, so valid UTF-8: only an unknown key needs validating.
        var name = reader.ValueIsEscaped ? ValueBytes(ref reader) : reader.ValueSpan;
        int column = PagesSchema.ApiColumnIndexOf(name, _expectedColumn);
        if (column < 0)
        {
            if (!reader.ValueIsEscaped)
            {
                ValueBytes(ref reader);
            }
            UnknownKeys++;
        }
        else
        {
            _expectedColumn = column + 1;
        }
        return column;
    }

    private void ReadPageValue(ref Utf8JsonReader reader)
    {
        int column = _column;
        if (column < 0)
        {
            SkipValue(ref reader, Mode.PageProperty);
            return;
        }
        _mode = Mode.PageProperty;
        var batch = _batch;
        if (reader.TokenType == JsonTokenType.Null)
        {
            batch.SetNull(column);
            return;
        }
        switch (Kinds[column])
        {
            case ColumnKind.Utf8:
                if (reader.TokenType != JsonTokenType.String)
                {
                    ThrowAt(ref reader, $"\"{PagesSchema.Columns[column].Name}\" expected a string, got {Describe(ref reader)}");
                }
                batch.SetString(column, ValueBytes(ref reader));
                break;
            case ColumnKind.Int32:
                long wide = ReadInt64(ref reader, column);
                if (wide is < int.MinValue or > int.MaxValue)
                {
                    ThrowAt(ref reader, $"\"{PagesSchema.Columns[column].Name}\" is out of range for a 32-bit integer: {Describe(ref reader)}");
                }
                batch.SetInt32(column, (int)wide);
                break;
            case ColumnKind.Int64:
                batch.SetInt64(column, ReadInt64(ref reader, column));
                break;
            default:
                long micros = ReadTimestamp(ref reader, column);
                if (micros == EpochSentinelMicros)
                {
                    batch.SetNull(column);
                }
                else
                {
                    batch.SetInt64(column, micros);
                }
                break;
        }
    }

    private void EndRecord(ref Utf8JsonReader reader)
    {
        // Only EndObject can follow in a record: Utf8JsonReader rejects anything else.
        if (!_batch.IsSet(PagesSchema.Url))
        {
            ThrowAt(ref reader, "the record has no \"url\"");
        }
        _batch.EndRow(_recordIndex);
        Rows++;
        _expectedColumn = 0;
        _mode = Mode.PagesArray;
    }

    /// <summary>
    /// Just after a record's '}': lets <see cref="SegmentScanner"/> read the records that follow in the buffer, then
    /// puts the token reader after the last of them with a state made for that point (in the array, after a record).
    /// True when the batch became full. The scanner takes only what it knows to be valid and reads exactly as the
    /// token reader would; at anything else it stops and the token reader reads on from there, errors included.
    /// </summary>
    private bool TryScanRecords(ref Utf8JsonReader reader)
    {
        if (!_allValid)
        {
            return false; // strings are then checked one by one, for the error to name the right one
        }
        if (_scanPause > 0)
        {
            _scanPause--;
            return false;
        }
        var scanner = _scanner!;
        int from = _start + (int)reader.BytesConsumed;
        scanner.ExpectComma = true;
        scanner.NextOrdinal = _nextOrdinal;
        var outcome = scanner.Scan(_buffer.AsSpan(from, _end - from), _bufferOrigin + from, long.MaxValue);
        long scanned = scanner.NextOrdinal - _nextOrdinal;
        if (scanned == 0)
        {
            if (outcome == SegmentScanner.Outcome.Unsupported)
            {
                // Records of a shape the scanner does not take (an unknown key in each, say): try less often.
                _scanPause = _scanBackoff;
                _scanBackoff = Math.Min(_scanBackoff * 2, 1024);
            }
            return false;
        }
        _scanBackoff = 1;
        ScannedRows += scanned;
        Rows += scanned;
        _nextOrdinal += scanned;
        _recordIndex = _nextOrdinal - 1;

        int resume = from + scanner.Position;
        long absolute = _bufferOrigin + resume;
        // Newlines are counted on from the last rebase, not from the buffer's start each time: records that alternate
        // between the scanner and the token reader rebase once per record.
        int countFrom = 0;
        long linesBefore = _linesBeforeOrigin;
        if (_counterBase >= _bufferOrigin && _counterBase <= absolute)
        {
            countFrom = (int)(_counterBase - _bufferOrigin);
            linesBefore = _counterBaseLines;
        }
        _counterBaseLines = linesBefore + _buffer.AsSpan(countFrom, resume - countFrom).Count((byte)'\n');
        _counterBase = absolute;
        _counterShift = AfterRecordPrefix.Length;
        _start = resume;
        reader = new Utf8JsonReader(_buffer.AsSpan(_start, _end - _start), _final, AfterRecordState(_segment));
        return outcome == SegmentScanner.Outcome.BatchFull;
    }

    // A response up to the end of a record in its "pages" array: the token reader's state after it is the state
    // after any record (same nesting; line and column counters known).
    private static ReadOnlySpan<byte> AfterRecordPrefix => "{\"pages\":[{\"url\":\"\"}"u8;

    private static readonly JsonReaderState AfterRecordState64 = MakeAfterRecordState(64);

    private static JsonReaderState AfterRecordState(bool segment)
        => segment ? throw new InvalidOperationException("segments are not scanned here") : AfterRecordState64;

    private static JsonReaderState MakeAfterRecordState(int maxDepth)
    {
        var reader = new Utf8JsonReader(AfterRecordPrefix, isFinalBlock: false,
            new JsonReaderState(new JsonReaderOptions { AllowMultipleValues = true, MaxDepth = maxDepth }));
        while (reader.Read())
        {
        }
        if (reader.BytesConsumed != AfterRecordPrefix.Length || reader.TokenType != JsonTokenType.EndObject || reader.CurrentDepth != 2)
        {
            throw new InvalidOperationException("the after-record state could not be made");
        }
        return reader.CurrentState;
    }

    private static readonly ColumnKind[] Kinds = [.. PagesSchema.Columns.Select(c => c.Kind)];

    private long ReadInt64(ref Utf8JsonReader reader, int column)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            // The reader has checked the JSON number grammar; plain digits (almost every count) are summed here,
            // anything else (a sign, a fraction, an exponent, 19+ digits) goes through TryGetInt64's rules.
            if (!reader.HasValueSequence && TryParsePlainDigits(reader.ValueSpan, out long plain))
            {
                return plain;
            }
            if (reader.TryGetInt64(out long value))
            {
                return value;
            }
        }
        return ReadInt64(ref reader, PagesSchema.Columns[column].Name);
    }

    /// <summary>Parses 1 to 18 ASCII digits (no sign): cannot overflow.</summary>
    internal static bool TryParsePlainDigits(ReadOnlySpan<byte> digits, out long value)
    {
        value = 0;
        if (digits.Length is 0 or > 18)
        {
            return false;
        }
        long result = 0;
        foreach (byte b in digits)
        {
            uint digit = (uint)(b - '0');
            if (digit > 9)
            {
                return false;
            }
            result = (result * 10) + digit;
        }
        value = result;
        return true;
    }

    private long ReadInt64(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            if (reader.TryGetInt64(out long value))
            {
                return value;
            }
            ThrowAt(ref reader, $"\"{name}\" expected an integer, got {Describe(ref reader)}");
        }
        if (reader.TokenType == JsonTokenType.String)
        {
            // Some archived clients re-serialised counts as strings; accept them when they are integers.
            var text = ValueBytes(ref reader);
            if (Utf8Parser.TryParse(text, out long parsed, out int consumed) && consumed == text.Length && text.Length > 0)
            {
                return parsed;
            }
        }
        ThrowAt(ref reader, $"\"{name}\" expected a number, got {Describe(ref reader)}");
        return 0;
    }

    private long ReadTimestamp(ref Utf8JsonReader reader, int column)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            if (!reader.ValueIsEscaped && TryParseUtcSeconds(reader.ValueSpan, out long micros))
            {
                return micros;
            }
            if (reader.TryGetDateTimeOffset(out var value))
            {
                return (value.UtcTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;
            }
        }
        ThrowAt(ref reader, $"\"{PagesSchema.Columns[column].Name}\" expected an ISO-8601 date, got {Describe(ref reader)}");
        return 0;
    }

    /// <summary>Fast path for the API's own format, <c>YYYY-MM-DDTHH:MM:SSZ</c>.</summary>
    internal static bool TryParseUtcSeconds(ReadOnlySpan<byte> s, out long micros)
    {
        micros = 0;
        if (s.Length != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
        {
            return false;
        }
        if (!TryDigits(s, 0, 4, out int year) || !TryDigits(s, 5, 2, out int month) || !TryDigits(s, 8, 2, out int day)
            || !TryDigits(s, 11, 2, out int hour) || !TryDigits(s, 14, 2, out int minute) || !TryDigits(s, 17, 2, out int second))
        {
            return false;
        }
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }
        long days = DaysFromCivil(year, month, day);
        micros = ((days * 86_400L) + (hour * 3600L) + (minute * 60L) + second) * 1_000_000L;
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<byte> s, int start, int count, out int value)
    {
        value = 0;
        for (int i = start; i < start + count; i++)
        {
            uint digit = (uint)(s[i] - '0');
            if (digit > 9)
            {
                return false;
            }
            value = (value * 10) + (int)digit;
        }
        return true;
    }

    // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil-from-days inverse).
    private static long DaysFromCivil(int year, int month, int day)
    {
        long y = month <= 2 ? year - 1 : year;
        long era = (y >= 0 ? y : y - 399) / 400;
        long yoe = y - (era * 400);
        long doy = (((153 * (month > 2 ? month - 3 : month + 9)) + 2) / 5) + day - 1;
        long doe = (yoe * 365) + (yoe / 4) - (yoe / 100) + doy;
        return (era * 146_097) + doe - 719_468;
    }

    /// <summary>The token's bytes, unescaped into scratch only when the JSON text escapes them.</summary>
    private ReadOnlySpan<byte> ValueBytes(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            // Utf8JsonReader does not validate string bytes; JSON text must be UTF-8, so refuse rather than alter it.
            // While every byte read so far was valid (ValidateNewBytes), there is nothing to check here.
            var raw = reader.ValueSpan;
            if (!_allValid && !System.Text.Unicode.Utf8.IsValid(raw))
            {
                ThrowAt(ref reader, "a string holds bytes that are not valid UTF-8");
            }
            return raw;
        }
        int needed = reader.ValueSpan.Length; // unescaped text is never longer than escaped text
        if (_scratch.Length < needed)
        {
            _scratch = new byte[Math.Max(needed, 256)];
        }
        int written;
        try
        {
            written = reader.CopyString(_scratch);
        }
        catch (InvalidOperationException ex)
        {
            // A lone surrogate escape (\ud800) or invalid UTF-8 next to an escape.
            ThrowAt(ref reader, "a string cannot be decoded: " + ex.Message);
            return default;
        }
        return _scratch.AsSpan(0, written);
    }

    private static string Describe(ref Utf8JsonReader reader)
    {
        const int MaxShown = 40;
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                var text = Encoding.UTF8.GetString(reader.ValueSpan[..Math.Min(reader.ValueSpan.Length, MaxShown * 4)]);
                return "\"" + (text.Length > MaxShown ? text[..MaxShown] + "..." : text) + "\"";
            case JsonTokenType.Number:
                var number = Encoding.UTF8.GetString(reader.ValueSpan[..Math.Min(reader.ValueSpan.Length, MaxShown)]);
                return reader.ValueSpan.Length > MaxShown ? number + "..." : number;
            case JsonTokenType.True:
                return "true";
            case JsonTokenType.False:
                return "false";
            case JsonTokenType.Null:
                return "null";
            case JsonTokenType.StartObject:
                return "an object";
            case JsonTokenType.StartArray:
                return "an array";
            default:
                return reader.TokenType.ToString();
        }
    }

    private string CurrentPath()
    {
        var path = new StringBuilder("$");
        switch (_mode)
        {
            case Mode.PageValue or Mode.PageProperty:
                path.Append(".pages[").Append(_recordIndex).Append(']');
                if (_mode == Mode.PageValue && _column >= 0)
                {
                    path.Append('.').Append(PagesSchema.Columns[_column].Name);
                }
                break;
            case Mode.PagesArray:
                path.Append(".pages[").Append(_recordIndex + 1).Append(']');
                break;
            case Mode.StatsProperty or Mode.StatsValue:
                path.Append(".stats");
                break;
        }
        return path.ToString();
    }

    [DoesNotReturn]
    private void ThrowAt(ref Utf8JsonReader reader, string reason)
        => ThrowFormat(_bufferOrigin + _start + reader.TokenStartIndex, reason);

    [DoesNotReturn]
    private void ThrowFormat(long absolute, string reason)
    {
        var (line, _) = LineOf(absolute);
        throw new ResponseFormatException(_options.SourceName, _recordIndex >= 0 ? _recordIndex : null, line, absolute,
            CurrentPath(), reason);
    }

    /// <summary>1-based line and its start offset of an absolute position inside the buffered window.</summary>
    private (long Line, long LineStart) LineOf(long absolute)
    {
        int upto = (int)Math.Clamp(absolute - _bufferOrigin, 0, _end);
        var window = _buffer.AsSpan(0, upto);
        int newlines = window.Count((byte)'\n');
        long lineStart = newlines > 0 ? _bufferOrigin + window.LastIndexOf((byte)'\n') + 1 : _lineStartBeforeOrigin;
        return (_linesBeforeOrigin + newlines + 1, lineStart);
    }

    private ResponseFormatException FromJsonException(JsonException ex)
    {
        // The reader's position is line-relative; turn it into an absolute offset using the lines counted so far.
        // The reader's counters start at _counterBase (see TryScanRecords): line 0 there is the line of that offset,
        // its column counted from _counterShift.
        long readerLine = ex.LineNumber ?? 0;
        long inLine = ex.BytePositionInLine ?? 0;
        long line0 = _counterBaseLines + readerLine;
        long lineStart;
        if (readerLine == 0)
        {
            lineStart = _counterBase - _counterShift;
        }
        else
        {
            lineStart = _lineStartBeforeOrigin;
            long remaining = line0 - _linesBeforeOrigin;
            int index = 0;
            var window = _buffer.AsSpan(0, _end);
            while (remaining > 0)
            {
                int next = window[index..].IndexOf((byte)'\n');
                if (next < 0)
                {
                    break;
                }
                index += next + 1;
                lineStart = _bufferOrigin + index;
                remaining--;
            }
        }
        string reason = ex.Message;
        int cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut > 0)
        {
            reason = reason[..cut].TrimEnd();
        }
        return new ResponseFormatException(_options.SourceName, _recordIndex >= 0 ? _recordIndex : null, line0 + 1,
            lineStart + inLine, CurrentPath(), "malformed JSON: " + reason, ex);
    }
}
