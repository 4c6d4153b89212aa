using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.IO.Compression;
using System.Text.Unicode;
using Apache.Arrow;
using Apache.Arrow.Types;
using Parquet;
using Parquet.Schema;
using PagesAnalytics.Schema;

namespace PagesAnalytics.Store;

/// <summary>Compression codec of the Parquet parts.</summary>
public enum PartCompression
{
    /// <summary>Snappy: fastest to write, larger files.</summary>
    Snappy,
    /// <summary>Zstandard at level 3: a little slower to write, clearly smaller files.</summary>
    Zstd,
}

/// <summary>Options of one <see cref="PartWriter"/>.</summary>
public sealed record PartWriterOptions
{
    /// <summary>Default for <see cref="MinRowGroupRows"/>: one batch of the reader.</summary>
    public const int DefaultRowGroupRows = 65_536;

    /// <summary>Largest accepted <see cref="MinRowGroupRows"/>.</summary>
    public const int MaxMinRowGroupRows = 1 << 24;

    /// <summary>
    /// Every row group has at least this many rows unless the whole file is smaller; groups hold exactly this
    /// many rows except the last, which takes the remainder (fewer than twice this many).
    /// </summary>
    public int MinRowGroupRows { get; init; } = DefaultRowGroupRows;

    /// <summary>Compression codec; Zstd is always written at level 3, never Parquet.Net's default of 19.</summary>
    public PartCompression Compression { get; init; } = PartCompression.Zstd;

    internal void Validate()
    {
        if (MinRowGroupRows is <= 0 or > MaxMinRowGroupRows)
        {
            throw new ArgumentOutOfRangeException(nameof(MinRowGroupRows), MinRowGroupRows,
                $"PartWriterOptions.MinRowGroupRows must be between 1 and {MaxMinRowGroupRows}, got {MinRowGroupRows}.");
        }
        if (!Enum.IsDefined(Compression))
        {
            throw new ArgumentOutOfRangeException(nameof(Compression), Compression,
                $"PartWriterOptions.Compression has unknown value {(int)Compression}.");
        }
    }
}

/// <summary>
/// Writes Arrow record batches of <see cref="PagesSchema.ArrowSchema"/> to one Parquet part. The file is written under
/// <c>finalPath + ".tmp"</c>, flushed to disk and renamed to its final path only by <see cref="CompleteAsync"/>;
/// disposing an uncompleted writer deletes the temp file, so a final path never holds half a file.
/// Not thread-safe: one producer calls it at a time.
/// </summary>
/// <remarks>
/// Rows are buffered column by column in Parquet-ready form (dense values + definition levels, strings as UTF-16
/// slices of one reused char buffer), so memory stays at about two row groups whatever the batch sizes are.
/// A row group is written once twice <see cref="PartWriterOptions.MinRowGroupRows"/> rows are buffered, leaving
/// at least that many behind, so a short tail is always merged into the last group.
/// </remarks>
public sealed class PartWriter : IAsyncDisposable
{
    /// <summary>Suffix of the temp file written beside the final path.</summary>
    public const string TempSuffix = ".tmp";

    private readonly string _finalPath;
    private readonly string _tempPath;
    private readonly int _minRowGroupRows;
    private readonly int _flushAtRows;
    private readonly ColumnBuffer[] _columns;
    private FileStream? _stream;
    private ParquetWriter? _writer;
    private int _bufferedRows;
    private long _rows;
    private State _state;

    private enum State { Open, Completed, Faulted, Disposed }

    private PartWriter(string finalPath, string tempPath, int minRowGroupRows, ColumnBuffer[] columns,
        FileStream stream, ParquetWriter writer)
    {
        _finalPath = finalPath;
        _tempPath = tempPath;
        _minRowGroupRows = minRowGroupRows;
        _flushAtRows = 2 * minRowGroupRows;
        _columns = columns;
        _stream = stream;
        _writer = writer;
    }

    /// <summary>Rows accepted so far (written or still buffered).</summary>
    public long Rows => _rows;

    /// <summary>
    /// Creates the temp file <c>finalPath + ".tmp"</c> (replacing debris of an earlier crash) and starts a Parquet file in it.
    /// </summary>
    /// <exception cref="IOException"><paramref name="finalPath"/> already exists.</exception>
    public static async Task<PartWriter> CreateAsync(string finalPath, PartWriterOptions? options = null,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(finalPath);
        options ??= new PartWriterOptions();
        options.Validate();
        ct.ThrowIfCancellationRequested();

        string fullPath = Path.GetFullPath(finalPath);
        if (File.Exists(fullPath) || Directory.Exists(fullPath))
        {
            throw new IOException($"{fullPath}: part already exists; a part is never overwritten.");
        }
        string tempPath = fullPath + TempSuffix;

        var parquetSchema = BuildParquetSchema();
        var fields = parquetSchema.GetDataFields();
        var columns = new ColumnBuffer[fields.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            columns[i] = ColumnBuffer.Create(PagesSchema.Columns[i], fields[i], 2 * options.MinRowGroupRows);
        }

        var stream = new FileStream(tempPath, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16,
            FileOptions.Asynchronous);
        try
        {
            var writer = await ParquetWriter.CreateAsync(parquetSchema, stream, BuildParquetOptions(options),
                append: false, ct).ConfigureAwait(false);
            return new PartWriter(fullPath, tempPath, options.MinRowGroupRows, columns, stream, writer);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            TryDelete(tempPath);
            throw;
        }
    }

    /// <summary>
    /// Buffers the rows of <paramref name="batch"/> and writes every row group that is due. The batch is copied,
    /// so the caller may dispose or reuse it when the task completes. A batch rejected by validation leaves the
    /// writer usable; a failure or cancellation while writing leaves it faulted (only disposing is left).
    /// </summary>
    /// <exception cref="ArgumentException">The batch does not have <see cref="PagesSchema.ArrowSchema"/>, or a required column holds nulls.</exception>
    public async Task WriteAsync(RecordBatch batch, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        EnsureOpen();
        ValidateBatch(batch);
        ct.ThrowIfCancellationRequested();

        int length = batch.Length;
        int offset = 0;
        try
        {
            while (offset < length)
            {
                int take = Math.Min(length - offset, _flushAtRows - _bufferedRows);
                for (int c = 0; c < _columns.Length; c++)
                {
                    _columns[c].Append(batch.Column(c), offset, take);
                }
                _bufferedRows += take;
                offset += take;
                if (_bufferedRows == _flushAtRows)
                {
                    // Keep MinRowGroupRows behind so a short tail can still join the last group.
                    await WriteRowGroupAsync(_minRowGroupRows, ct).ConfigureAwait(false);
                    for (int c = 0; c < _columns.Length; c++)
                    {
                        _columns[c].RemoveFront(_minRowGroupRows);
                    }
                    _bufferedRows -= _minRowGroupRows;
                }
            }
        }
        catch
        {
            _state = State.Faulted;
            throw;
        }
        _rows += length;
    }

    /// <summary>
    /// Writes the buffered rows as the last row group, the footer, flushes the file to disk (fsync) and renames
    /// it to the final path.
    /// </summary>
    /// <returns>Rows written to the part.</returns>
    public async Task<long> CompleteAsync(CancellationToken ct = default)
    {
        EnsureOpen();
        try
        {
            if (_bufferedRows > 0)
            {
                await WriteRowGroupAsync(_bufferedRows, ct).ConfigureAwait(false);
                _bufferedRows = 0;
            }
            ct.ThrowIfCancellationRequested();

            var writer = _writer!;
            _writer = null;
            // Writes the footer; it leaves the stream open.
            await writer.DisposeAsync().ConfigureAwait(false);

            var stream = _stream!;
            _stream = null;
            // Buffers to the OS and fsync: the rename below must never expose bytes that are not on disk.
            stream.Flush(flushToDisk: true);
            await stream.DisposeAsync().ConfigureAwait(false);

            File.Move(_tempPath, _finalPath, overwrite: false);
        }
        catch
        {
            _state = State.Faulted;
            throw;
        }
        _state = State.Completed;
        ReleaseBuffers();
        return _rows;
    }

    /// <summary>
    /// Releases the file. An uncompleted writer closes and deletes its temp file; the final path is never created.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_state == State.Disposed)
        {
            return;
        }
        bool completed = _state == State.Completed;
        _state = State.Disposed;
        // The ParquetWriter is dropped, not disposed: disposing it would write a footer into a file we delete.
        _writer = null;
        if (_stream is { } stream)
        {
            _stream = null;
            await stream.DisposeAsync().ConfigureAwait(false);
        }
        if (!completed)
        {
            TryDelete(_tempPath);
        }
        ReleaseBuffers();
    }

    private async Task WriteRowGroupAsync(int rows, CancellationToken ct)
    {
        using var rowGroup = _writer!.CreateRowGroup();
        for (int c = 0; c < _columns.Length; c++)
        {
            await _columns[c].WriteAsync(rowGroup, rows, ct).ConfigureAwait(false);
        }
        rowGroup.CompleteValidate();
    }

    private void EnsureOpen()
    {
        switch (_state)
        {
            case State.Open:
                return;
            case State.Disposed:
                throw new ObjectDisposedException(nameof(PartWriter), $"{_finalPath}: the part writer is disposed.");
            case State.Completed:
                throw new InvalidOperationException($"{_finalPath}: the part is already complete.");
            default:
                throw new InvalidOperationException($"{_finalPath}: an earlier write failed; dispose the part writer.");
        }
    }

    private void ReleaseBuffers()
    {
        foreach (var column in _columns)
        {
            column.Release();
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Debris in the store's tmp/ is removed by the next writer.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void ValidateBatch(RecordBatch batch)
    {
        var columns = PagesSchema.Columns;
        if (batch.ColumnCount != columns.Count)
        {
            throw new ArgumentException(
                $"record batch has {batch.ColumnCount} columns, the pages schema has {columns.Count}.", nameof(batch));
        }
        var fields = batch.Schema.FieldsList;
        for (int c = 0; c < columns.Count; c++)
        {
            var column = columns[c];
            if (!string.Equals(fields[c].Name, column.Name, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"record batch column {c} is '{fields[c].Name}', expected '{column.Name}'.", nameof(batch));
            }
            var array = batch.Column(c);
            bool typeOk = column.Kind switch
            {
                ColumnKind.Utf8 => array is StringArray,
                ColumnKind.Int32 => array is Int32Array,
                ColumnKind.Int64 => array is Int64Array,
                ColumnKind.Timestamp => array is TimestampArray { Data.DataType: TimestampType { Unit: TimeUnit.Microsecond } },
                _ => false,
            };
            if (!typeOk)
            {
                throw new ArgumentException(
                    $"record batch column '{column.Name}' is {array.Data.DataType.Name}, expected {column.ArrowType.Name}"
                    + (column.Kind == ColumnKind.Timestamp ? " in microseconds." : "."), nameof(batch));
            }
            if (array.Length != batch.Length)
            {
                throw new ArgumentException(
                    $"record batch column '{column.Name}' has {array.Length} rows, the batch has {batch.Length}.", nameof(batch));
            }
            if (!column.Nullable && array.NullCount > 0)
            {
                throw new ArgumentException(
                    $"record batch column '{column.Name}' is required but holds {array.NullCount} nulls.", nameof(batch));
            }
        }
    }

    private static ParquetSchema BuildParquetSchema()
    {
        var columns = PagesSchema.Columns;
        var fields = new Parquet.Schema.Field[columns.Count];
        for (int i = 0; i < fields.Length; i++)
        {
            var column = columns[i];
            fields[i] = column.Kind switch
            {
                ColumnKind.Utf8 => new DataField(column.Name, typeof(string), column.Nullable),
                ColumnKind.Int32 => new DataField(column.Name, typeof(int), column.Nullable),
                ColumnKind.Int64 => new DataField(column.Name, typeof(long), column.Nullable),
                // Logical TIMESTAMP(isAdjustedToUTC=true, MILLIS): DuckDB reads it as TIMESTAMP WITH TIME ZONE.
                // MILLIS, not MICROS: Parquet.Net 6.1.0 writes min/max statistics in milliseconds whatever the unit
                // (parquet-dotnet#769), and readers skip row groups by those statistics, so MICROS columns give
                // wrong filter results. The API's dates have whole seconds, so nothing is lost.
                ColumnKind.Timestamp => new DateTimeDataField(column.Name, DateTimeFormat.Timestamp,
                    isAdjustedToUTC: true, unit: DateTimeTimeUnit.Millis, isNullable: column.Nullable),
                _ => throw new InvalidOperationException($"unknown kind {column.Kind}"),
            };
        }
        return new ParquetSchema(fields);
    }

    /// <summary>The Parquet.Net options of a part; internal so tests can pin the compression level.</summary>
    internal static ParquetOptions BuildParquetOptions(PartWriterOptions options)
    {
        var parquet = new ParquetOptions
        {
            CompressionMethod = options.Compression == PartCompression.Zstd ? CompressionMethod.Zstd : CompressionMethod.Snappy,
            // Parquet.Net defaults to SmallestSize, which is zstd level 19 (~100x slower). Optimal maps to level 3.
            CompressionLevel = CompressionLevel.Optimal,
        };
        parquet.ColumnEncodingHints[PagesSchema.Columns[PagesSchema.Encoding].Name] = EncodingHint.Dictionary;
        parquet.ColumnEncodingHints[PagesSchema.Columns[PagesSchema.ContentEncoding].Name] = EncodingHint.Dictionary;
        return parquet;
    }

    /// <summary>
    /// The buffered rows of one column: dense non-null values plus definition levels (1 present, 0 null) for
    /// nullable columns, the form <see cref="ParquetRowGroupWriter.WriteAllPartsAsync{T}"/> takes as is.
    /// </summary>
    private abstract class ColumnBuffer
    {
        private int[] _definitionLevels = [];

        protected ColumnBuffer(PageColumn column, DataField field, int rowLimit)
        {
            Column = column;
            Field = field;
            Nullable = column.Nullable;
            RowLimit = rowLimit;
        }

        /// <summary>Most rows ever buffered: twice the minimum row group.</summary>
        protected int RowLimit { get; }

        protected PageColumn Column { get; }

        protected DataField Field { get; }

        protected bool Nullable { get; }

        /// <summary>Buffered rows, nulls included.</summary>
        protected int RowCount { get; private set; }

        /// <summary>Buffered non-null values.</summary>
        protected int ValueCount { get; set; }

        public static ColumnBuffer Create(PageColumn column, DataField field, int rowLimit) => column.Kind switch
        {
            ColumnKind.Utf8 => new Utf8Buffer(column, field, rowLimit),
            ColumnKind.Int32 => new PrimitiveBuffer<int>(column, field, rowLimit),
            ColumnKind.Int64 => new PrimitiveBuffer<long>(column, field, rowLimit),
            ColumnKind.Timestamp => new TimestampBuffer(column, field, rowLimit),
            _ => throw new InvalidOperationException($"unknown kind {column.Kind}"),
        };

        /// <summary>Appends rows [start, start + count) of <paramref name="array"/>.</summary>
        public void Append(IArrowArray array, int start, int count)
        {
            if (Nullable)
            {
                _definitionLevels = Grow(_definitionLevels, RowCount, RowCount + count, RowLimit);
            }
            var levels = Nullable ? _definitionLevels.AsSpan(RowCount, count) : Span<int>.Empty;
            AppendValues((Apache.Arrow.Array)array, start, count, levels);
            RowCount += count;
        }

        /// <summary>Writes the first <paramref name="rows"/> buffered rows as this column's chunk of the row group.</summary>
        public Task WriteAsync(ParquetRowGroupWriter rowGroup, int rows, CancellationToken ct)
        {
            // Not `cond ? memory : null`: null would convert to an empty Memory (via int[]), not to "no levels".
            ReadOnlyMemory<int>? levels = null;
            if (Nullable)
            {
                levels = _definitionLevels.AsMemory(0, rows);
            }
            return WriteValuesAsync(rowGroup, levels, ValuesIn(rows), ct);
        }

        /// <summary>Drops the first <paramref name="rows"/> buffered rows (already written).</summary>
        public void RemoveFront(int rows)
        {
            int values = ValuesIn(rows);
            if (Nullable)
            {
                _definitionLevels.AsSpan(rows, RowCount - rows).CopyTo(_definitionLevels);
            }
            RemoveFrontValues(values);
            RowCount -= rows;
            ValueCount -= values;
        }

        public virtual void Release()
        {
            _definitionLevels = [];
            RowCount = 0;
            ValueCount = 0;
        }

        /// <summary>
        /// Appends the non-null values of rows [start, start + count) and, for nullable columns, fills
        /// <paramref name="levels"/> (one per row).
        /// </summary>
        protected abstract void AppendValues(Apache.Arrow.Array array, int start, int count, Span<int> levels);

        protected abstract Task WriteValuesAsync(ParquetRowGroupWriter rowGroup, ReadOnlyMemory<int>? levels,
            int values, CancellationToken ct);

        protected abstract void RemoveFrontValues(int values);

        private int ValuesIn(int rows) =>
            !Nullable ? rows : rows == RowCount ? ValueCount : _definitionLevels.AsSpan(0, rows).Count(1);

        /// <summary>
        /// Fills definition levels from the validity bitmap of rows [start, start + count); returns the number of
        /// non-null rows. With no nulls it is a plain fill.
        /// </summary>
        protected static int FillLevels(Apache.Arrow.Array array, int start, int count, Span<int> levels)
        {
            if (array.NullCount == 0 || array.NullBitmapBuffer.IsEmpty)
            {
                levels.Fill(1);
                return count;
            }
            ReadOnlySpan<byte> bitmap = array.NullBitmapBuffer.Span;
            int bit = array.Offset + start;
            int present = 0;
            for (int i = 0; i < levels.Length; i++, bit++)
            {
                int level = (bitmap[bit >> 3] >> (bit & 7)) & 1;
                levels[i] = level;
                present += level;
            }
            return present;
        }

        /// <summary>
        /// Returns <paramref name="array"/> if it holds <paramref name="needed"/> items, else a larger array holding
        /// its first <paramref name="used"/> items: doubled, but never past <paramref name="limit"/> (the most this
        /// buffer can ever need) unless <paramref name="needed"/> is larger.
        /// </summary>
        /// <remarks>
        /// Plain arrays, not <see cref="ArrayPool{T}"/>: measured on 1M rows, the shared pool kept every array of the
        /// growth chain alive and raised peak RSS by ~100 MB, while the collector reclaims them here.
        /// </remarks>
        protected static T[] Grow<T>(T[] array, int used, int needed, int limit = int.MaxValue)
        {
            if (needed <= array.Length)
            {
                return array;
            }
            long doubled = Math.Max(1024L, 2L * array.Length);
            int size = (int)Math.Max(needed, Math.Min(doubled, Math.Min(limit, System.Array.MaxLength)));
            var grown = new T[size];
            array.AsSpan(0, used).CopyTo(grown);
            return grown;
        }
    }

    /// <summary>Int32 or Int64 values, copied as they are.</summary>
    private sealed class PrimitiveBuffer<T>(PageColumn column, DataField field, int rowLimit)
        : ColumnBuffer(column, field, rowLimit)
        where T : unmanaged, IEquatable<T>
    {
        private T[] _values = [];

        protected override void AppendValues(Apache.Arrow.Array array, int start, int count, Span<int> levels)
        {
            ReadOnlySpan<T> source = ((PrimitiveArray<T>)array).Values.Slice(start, count);
            _values = Grow(_values, ValueCount, ValueCount + count, RowLimit);
            Span<T> target = _values.AsSpan(ValueCount);
            if (!Nullable)
            {
                source.CopyTo(target);
                ValueCount += count;
                return;
            }
            int present = FillLevels(array, start, count, levels);
            if (present == count)
            {
                source.CopyTo(target);
            }
            else
            {
                int n = 0;
                for (int i = 0; i < source.Length; i++)
                {
                    target[n] = source[i];
                    n += levels[i];
                }
            }
            ValueCount += present;
        }

        protected override Task WriteValuesAsync(ParquetRowGroupWriter rowGroup, ReadOnlyMemory<int>? levels, int values,
            CancellationToken ct) =>
            rowGroup.WriteAllPartsAsync<T>(Field, _values.AsMemory(0, values), levels, null, ct);

        protected override void RemoveFrontValues(int values) =>
            _values.AsSpan(values, ValueCount - values).CopyTo(_values);

        public override void Release()
        {
            base.Release();
            _values = [];
        }
    }

    /// <summary>Arrow microseconds since the epoch, as the UTC <see cref="DateTime"/> values Parquet.Net takes.</summary>
    private sealed class TimestampBuffer(PageColumn column, DataField field, int rowLimit)
        : ColumnBuffer(column, field, rowLimit)
    {
        private const long MinMicros = -62_135_596_800_000_000; // 0001-01-01T00:00:00Z
        private const long MaxMicros = 253_402_300_799_999_999; // 9999-12-31T23:59:59.999999Z
        private const long UnixEpochTicks = 621_355_968_000_000_000;

        private DateTime[] _values = [];

        protected override void AppendValues(Apache.Arrow.Array array, int start, int count, Span<int> levels)
        {
            ReadOnlySpan<long> source = ((TimestampArray)array).Values.Slice(start, count);
            _values = Grow(_values, ValueCount, ValueCount + count, RowLimit);
            Span<DateTime> target = _values.AsSpan(ValueCount);
            int present = Nullable ? FillLevels(array, start, count, levels) : count;
            bool dense = present == count;
            int n = 0;
            for (int i = 0; i < source.Length; i++)
            {
                if (!dense && levels[i] == 0)
                {
                    continue;
                }
                long micros = source[i];
                if (micros is < MinMicros or > MaxMicros)
                {
                    ThrowOutOfRange(Column.Name, start + i, micros);
                }
                target[n++] = new DateTime(UnixEpochTicks + micros * 10, DateTimeKind.Utc);
            }
            ValueCount += present;
        }

        protected override Task WriteValuesAsync(ParquetRowGroupWriter rowGroup, ReadOnlyMemory<int>? levels, int values,
            CancellationToken ct) =>
            rowGroup.WriteAllPartsAsync<DateTime>(Field, _values.AsMemory(0, values), levels, null, ct);

        protected override void RemoveFrontValues(int values) =>
            _values.AsSpan(values, ValueCount - values).CopyTo(_values);

        public override void Release()
        {
            base.Release();
            _values = [];
        }

        [DoesNotReturn]
        private static void ThrowOutOfRange(string column, int row, long micros) =>
            throw new ArgumentException(
                $"record batch column '{column}' row {row}: timestamp {micros} us is outside 0001..9999.", "batch");
    }

    /// <summary>
    /// UTF-8 strings converted once into one reused UTF-16 buffer; Parquet.Net gets <see cref="ReadOnlyMemory{T}"/>
    /// slices of it, never a <see cref="string"/> per value.
    /// </summary>
    private sealed class Utf8Buffer(PageColumn column, DataField field, int rowLimit)
        : ColumnBuffer(column, field, rowLimit)
    {
        private char[] _chars = [];
        private int _charCount;
        // _ends[k] is where value k ends in _chars; value k starts at _ends[k - 1] (or 0).
        private int[] _ends = [];
        private ReadOnlyMemory<char>[] _slices = [];

        protected override void AppendValues(Apache.Arrow.Array array, int start, int count, Span<int> levels)
        {
            var strings = (StringArray)array;
            ReadOnlySpan<int> offsets = strings.ValueOffsets.Slice(start, count + 1);
            ReadOnlySpan<byte> bytes = strings.Values;
            // UTF-16 never needs more code units than UTF-8 has bytes.
            _chars = Grow(_chars, _charCount, _charCount + (offsets[count] - offsets[0]));
            _ends = Grow(_ends, ValueCount, ValueCount + count, RowLimit);
            int present = Nullable ? FillLevels(array, start, count, levels) : count;
            bool dense = present == count;

            Span<char> chars = _chars;
            Span<int> ends = _ends;
            int charCount = _charCount;
            int valueCount = ValueCount;
            for (int i = 0; i < count; i++)
            {
                if (!dense && levels[i] == 0)
                {
                    continue;
                }
                int from = offsets[i];
                var status = Utf8.ToUtf16(bytes.Slice(from, offsets[i + 1] - from), chars.Slice(charCount),
                    out _, out int written);
                if (status != OperationStatus.Done)
                {
                    ThrowConversion(Column.Name, start + i, status);
                }
                charCount += written;
                ends[valueCount++] = charCount;
            }
            _charCount = charCount;
            ValueCount = valueCount;
        }

        protected override async Task WriteValuesAsync(ParquetRowGroupWriter rowGroup, ReadOnlyMemory<int>? levels,
            int values, CancellationToken ct)
        {
            _slices = Grow(_slices, 0, values, RowLimit);
            var slices = _slices;
            var chars = _chars;
            var ends = _ends;
            int from = 0;
            for (int k = 0; k < values; k++)
            {
                int end = ends[k];
                slices[k] = new ReadOnlyMemory<char>(chars, from, end - from);
                from = end;
            }
            try
            {
                await rowGroup.WriteAllPartsAsync<ReadOnlyMemory<char>>(Field, slices.AsMemory(0, values), levels, null, ct)
                    .ConfigureAwait(false);
            }
            finally
            {
                // The slices would otherwise keep a char buffer alive after it is regrown.
                slices.AsSpan(0, values).Clear();
            }
        }

        protected override void RemoveFrontValues(int values)
        {
            if (values == 0)
            {
                return;
            }
            int removedChars = _ends[values - 1];
            _chars.AsSpan(removedChars, _charCount - removedChars).CopyTo(_chars);
            _charCount -= removedChars;
            int remaining = ValueCount - values;
            Span<int> ends = _ends;
            for (int k = 0; k < remaining; k++)
            {
                ends[k] = ends[k + values] - removedChars;
            }
        }

        public override void Release()
        {
            base.Release();
            _chars = [];
            _ends = [];
            _slices = [];
            _charCount = 0;
        }

        [DoesNotReturn]
        private static void ThrowConversion(string column, int row, OperationStatus status) =>
            throw new ArgumentException(
                $"record batch column '{column}' row {row}: UTF-8 to UTF-16 conversion failed ({status}).", "batch");
    }
}
