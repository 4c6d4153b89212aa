using Apache.Arrow;
using Apache.Arrow.Ipc;

namespace PagesAnalytics.Export;

/// <summary>
/// One file of an export in one format: created at a temporary path, fed record batches, completed (footer written,
/// flushed to disk) or abandoned. Batches are not disposed: the caller owns them.
/// </summary>
internal abstract class ExportFileWriter : IAsyncDisposable
{
    private readonly FileStream _file;
    private bool _completed;
    private bool _disposed;

    protected ExportFileWriter(FileStream file) => _file = file;

    /// <summary>Rows written to this file.</summary>
    public long Rows { get; private set; }

    protected Stream Output => _file;

    /// <summary>Creates <paramref name="path"/> (overwriting) and starts a file of <paramref name="schema"/>.</summary>
    public static async Task<ExportFileWriter> CreateAsync(ExportFormat format, string path, Apache.Arrow.Schema schema,
        ParquetExportOptions parquetOptions, CancellationToken ct)
    {
        var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        try
        {
            switch (format)
            {
                case ExportFormat.Parquet:
                    return new ParquetFile(file, await ParquetExportWriter.CreateAsync(file, schema, parquetOptions, ct).ConfigureAwait(false));
                case ExportFormat.Arrow:
                    {
                        var writer = new ArrowFileWriter(file, WithMetadata(schema, parquetOptions.Metadata), leaveOpen: true);
                        await writer.WriteStartAsync(ct).ConfigureAwait(false);
                        return new ArrowIpcFile(file, writer, schema);
                    }
                case ExportFormat.Csv:
                    return new TextFile(file, ExportTextWriter.Csv(file, schema));
                default:
                    return new TextFile(file, ExportTextWriter.Ndjson(file, schema));
            }
        }
        catch
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Writes the rows of <paramref name="batch"/>.</summary>
    public async Task WriteAsync(RecordBatch batch, CancellationToken ct)
    {
        await WriteBatchAsync(batch, ct).ConfigureAwait(false);
        Rows += batch.Length;
    }

    /// <summary>Finishes the file and flushes it to disk; the file is closed.</summary>
    public async Task CompleteAsync(CancellationToken ct)
    {
        await CompleteFormatAsync(ct).ConfigureAwait(false);
        await _file.FlushAsync(ct).ConfigureAwait(false);
        _file.Flush(flushToDisk: true);
        _completed = true;
        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Closes the file; an uncompleted one is left incomplete for the caller to delete.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await DisposeFormatAsync(_completed).ConfigureAwait(false);
        await _file.DisposeAsync().ConfigureAwait(false);
    }

    protected abstract Task WriteBatchAsync(RecordBatch batch, CancellationToken ct);

    protected abstract Task CompleteFormatAsync(CancellationToken ct);

    protected virtual ValueTask DisposeFormatAsync(bool completed) => ValueTask.CompletedTask;

    private static Apache.Arrow.Schema WithMetadata(Apache.Arrow.Schema schema, IReadOnlyDictionary<string, string> metadata) =>
        metadata.Count == 0 ? schema : new Apache.Arrow.Schema(schema.FieldsList, metadata);

    private sealed class ParquetFile(FileStream file, ParquetExportWriter writer) : ExportFileWriter(file)
    {
        protected override Task WriteBatchAsync(RecordBatch batch, CancellationToken ct) => writer.WriteAsync(batch, ct);

        protected override Task CompleteFormatAsync(CancellationToken ct) => writer.CompleteAsync(ct);

        protected override ValueTask DisposeFormatAsync(bool completed) => writer.DisposeAsync();
    }

    private sealed class ArrowIpcFile(FileStream file, ArrowFileWriter writer, Apache.Arrow.Schema schema) : ExportFileWriter(file)
    {
        protected override Task WriteBatchAsync(RecordBatch batch, CancellationToken ct)
        {
            ArrowTypes.EnsureMatches(schema, batch);
            return writer.WriteRecordBatchAsync(batch, ct);
        }

        protected override Task CompleteFormatAsync(CancellationToken ct) => writer.WriteEndAsync(ct);

        protected override ValueTask DisposeFormatAsync(bool completed)
        {
            writer.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class TextFile(FileStream file, ExportTextWriter writer) : ExportFileWriter(file)
    {
        protected override Task WriteBatchAsync(RecordBatch batch, CancellationToken ct) => writer.WriteAsync(batch, ct);

        protected override Task CompleteFormatAsync(CancellationToken ct) => writer.CompleteAsync(ct);
    }
}
