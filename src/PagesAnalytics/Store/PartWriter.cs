using Apache.Arrow;
using Apache.Arrow.Types;
using PagesAnalytics.Schema;
using PagesAnalytics.Store.Parquet;

namespace PagesAnalytics.Store;

/// <summary>Compression codec of the Parquet parts.</summary>
public enum PartCompression
{
    /// <summary>Snappy: fastest to write, larger files.</summary>
    Snappy,
    /// <summary>Zstandard at level 3: a little slower to write, clearly smaller files.</summary>
    Zstd,
    /// <summary>No compression: largest files; for measurements and readers without a codec.</summary>
    None,
}

/// <summary>Options of one <see cref="PartWriter"/>.</summary>
public sealed record PartWriterOptions
{
    /// <summary>Default for <see cref="MinRowGroupRows"/>: one batch of the reader.</summary>
    public const int DefaultRowGroupRows = 65_536;

    /// <summary>Largest accepted <see cref="MinRowGroupRows"/>.</summary>
    public const int MaxMinRowGroupRows = 1 << 24;

    /// <summary>The Zstandard level parts are written with.</summary>
    public const int DefaultZstdLevel = 3;

    /// <summary>
    /// Every row group has at least this many rows unless the whole file is smaller; groups hold exactly this
    /// many rows except the last, which takes the remainder (fewer than twice this many).
    /// </summary>
    public int MinRowGroupRows { get; init; } = DefaultRowGroupRows;

    /// <summary>Compression codec; Zstd is written at level <see cref="DefaultZstdLevel"/>.</summary>
    public PartCompression Compression { get; init; } = PartCompression.Zstd;

    /// <summary>Zstandard level, for measurements; parts are always written at <see cref="DefaultZstdLevel"/>.</summary>
    internal int ZstdLevel { get; init; } = DefaultZstdLevel;

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
        if (ZstdLevel is < 1 or > 22)
        {
            throw new ArgumentOutOfRangeException(nameof(ZstdLevel), ZstdLevel,
                $"PartWriterOptions.ZstdLevel must be between 1 and 22, got {ZstdLevel}.");
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
/// Each batch is encoded at once into compressed Parquet pages straight from the Arrow buffers (UTF-8 bytes,
/// value arrays, validity bitmaps), so memory holds compressed pages of at most about two row groups whatever the
/// batch sizes are. A row group is written once twice <see cref="PartWriterOptions.MinRowGroupRows"/> rows are
/// encoded, leaving at least that many behind, so a short tail is always merged into the last group.
/// Timestamps are stored as TIMESTAMP(isAdjustedToUTC, MILLIS), rounded down: parts written by Parquet.Net 6.1.0
/// had to use MILLIS because it wrote MICROS statistics in milliseconds, and parts keep one physical layout.
/// </remarks>
public sealed class PartWriter : IAsyncDisposable
{
    /// <summary>Suffix of the temp file written beside the final path.</summary>
    public const string TempSuffix = ".tmp";

    private readonly string _finalPath;
    private readonly string _tempPath;
    private FileStream? _stream;
    private ParquetFileWriter? _writer;
    private long _rows;
    private State _state;

    private enum State { Open, Completed, Faulted, Disposed }

    private PartWriter(string finalPath, string tempPath, FileStream stream, ParquetFileWriter writer)
    {
        _finalPath = finalPath;
        _tempPath = tempPath;
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

        var stream = new FileStream(tempPath, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16,
            FileOptions.Asynchronous);
        try
        {
            var writer = await ParquetFileWriter.CreateAsync(stream, options.MinRowGroupRows, options.Compression,
                options.ZstdLevel, ct).ConfigureAwait(false);
            return new PartWriter(fullPath, tempPath, stream, writer);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            TryDelete(tempPath);
            throw;
        }
    }

    /// <summary>
    /// Encodes the rows of <paramref name="batch"/> into compressed pages and writes every row group that is due.
    /// Nothing of the batch is kept, so the caller may dispose or reuse it when the task completes. A batch
    /// rejected by validation leaves the writer usable; a failure or cancellation while writing (including a value
    /// that cannot be stored: a timestamp outside 0001..9999, a string that is not UTF-8) leaves it faulted (only
    /// disposing is left).
    /// </summary>
    /// <exception cref="ArgumentException">The batch does not have <see cref="PagesSchema.ArrowSchema"/>, or a required column holds nulls.</exception>
    public async Task WriteAsync(RecordBatch batch, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        EnsureOpen();
        ValidateBatch(batch);
        ct.ThrowIfCancellationRequested();

        try
        {
            await _writer!.WriteAsync(batch, ct).ConfigureAwait(false);
        }
        catch
        {
            _state = State.Faulted;
            throw;
        }
        _rows += batch.Length;
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
            ct.ThrowIfCancellationRequested();
            var writer = _writer!;
            await writer.CompleteAsync(ct).ConfigureAwait(false);
            _writer = null;
            writer.Dispose();

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
        if (_writer is { } writer)
        {
            _writer = null;
            writer.Dispose();
        }
        if (_stream is { } stream)
        {
            _stream = null;
            await stream.DisposeAsync().ConfigureAwait(false);
        }
        if (!completed)
        {
            TryDelete(_tempPath);
        }
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
}
